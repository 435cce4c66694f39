// Package redis is a Redis-protocol (RESP2) server built with protogen,
// which the real redis-cli and redis-benchmark talk to. The protocol type
// in redis.protogen.go is generated from redis.yaml; the hooks in
// redis_hooks.go, the RESP codec in codec.go and the commands are written
// by hand.
//
// It serves PING, ECHO, QUIT, GET, SET (with NX, XX, GET, EX, PX, EXAT,
// PXAT and KEEPTTL), MGET, MSET, INCR, DECR, INCRBY, DECRBY, DEL, EXISTS,
// DBSIZE, FLUSHALL, COMMAND (COUNT, DOCS, INFO) and CONFIG GET, on string
// values with expiry times. Commands come as RESP multibulks or as inline
// lines ("SET k \"a b\"\r\n"), as redis-cli --pipe may send them. An unknown
// command, a wrong number of arguments and every malformed command get
// the error replies of Redis 7, word for word; after a malformed one the
// server answers "-ERR Protocol error: ..." and closes the connection, as
// Redis does.
//
// # Parsing
//
// This example keeps a hand-written codec on purpose: RESP does not fit the
// fixed grammar that a spec's messages describe (see kv and kvbin for
// protocols whose wire layer is generated). A command is an array whose
// length and whose elements' lengths are read from the stream, its elements
// may themselves be arrays, and it may come as an inline line instead; nor
// does it have a framing of its own that the spec's framing kinds (line,
// delimiter, length, fixed) could describe: a multibulk is found by
// reading its headers, and an inline command is a line. So the hooks feed
// the reads to a [wire.Framer] with [Codec], a codec whose frame is
// one whole command. The framer passes the commands that lie inside a
// read in place, without a copy, and keeps a command split across reads in
// a buffer that holds at most [Limits.MaxCommandLen] bytes of it; the codec
// parses each command once, and its arguments alias the bytes read. A
// length header over a limit is refused as soon as it is read, before
// anything is allocated for it. A command that trickles in a few bytes at
// a time costs time linear in its length: the codec goes on where it
// stopped.
//
// # Back-pressure
//
// A client may pipeline many commands in one write. The server answers the
// commands of each read into one buffer and writes it when it reaches 16
// KiB and at the end of the read, so many replies go out in one system
// call. When its replies back up past the write buffer's high-water mark
// (64 KiB) it stops reading, in the middle of a read if need be: the framer
// holds the rest of that read, and TCP pushes back on the client. So a
// client that writes and does not read holds the server's memory to the
// water mark plus one read.
//
// Run it with
//
//	go run ./generated_example/cmd/server -addr 127.0.0.1:6380 -proto redis
//	redis-cli -p 6380 set greeting hello
//	redis-benchmark -p 6380 -t ping_mbulk,set,get -P 16 -q
package redis

//go:generate go run github.com/protogen/protogen/cmd/protogen -spec redis.yaml
