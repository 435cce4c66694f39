// Package kv is a key-value server and client built with protogen. Its
// spec, kv.yaml, describes the text lines of the protocol: each request and
// reply, its verb and its fields. From it protogen generates, in
// kv.protogen.go, a Go type per line, its parser and encoder, the dispatch
// of each request to its hook, and a Send method per reply; and
// kv.protogen_test.go, a fuzz test of them. Written by hand: the store,
// the hooks in kv_hooks.go (one short method per request) and the client.
//
// The protocol is line-oriented text. Requests, whose verbs match in any
// case:
//
//	SET key value     stores value (which may hold spaces) under key
//	GET key           fetches it
//	DEL key           deletes it
//	PING              checks the connection
//
// Each request gets one reply line, in order, so clients may pipeline:
//
//	OK                SET done, or DEL of a key that existed
//	VALUE value       GET of a key that exists
//	NOT_FOUND         GET or DEL of a key that does not exist
//	PONG              PING
//	ERR message       a bad request; a line over MaxLine bytes also
//	                  closes the connection
//
// A server stops reading from a client whose replies back up past the
// high-water mark, so a client that pipelines without reading cannot grow
// the server's memory: TCP pushes back on it instead.
package kv

//go:generate go run github.com/protogen/protogen/cmd/protogen -spec kv.yaml
