// Package kv is a key-value server and client built with protogen: the
// protocol types in kv.protogen.go are generated from kv.yaml, and the
// hooks in kv_hooks.go are written by hand.
//
// The protocol is line-oriented text. Requests:
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
