// Package kvbin is a binary key-value server and client built with
// protogen from kvbin.yaml. The spec describes the wire: each request and
// reply, its fields and its first byte, the length-prefixed frames that
// carry them, a handshake kept by a state machine that the requests drive,
// and a read timeout. From it protogen generates, in kvbin.protogen.go, a
// Go type per message, its decoder and encoder, the dispatch of each
// request to its hook, a Send method per reply, and kvbin.protogen_test.go,
// a fuzz test of the decoders and encoders. Written by hand: the store,
// the hooks in kvbin_hooks.go (one short method per request) and the
// client in client.go.
//
// The messages (see kvbin.yaml):
//
//	'H' version     hello: the first request, within the read timeout;
//	                the server answers 'H' with its version
//	'G' key         get: answered 'V' value, or 'N' when the key is missing
//	'S' n key value set: n is the key's length (2 bytes, big-endian);
//	                answered 'O'
//	'D' key         delete: answered 'O', or 'N' when the key was missing
//	'Q'             quit: answered 'O', then the server closes
//
// Replies come in the order of the requests, so clients may pipeline. A
// request that does not decode is answered 'E' and a message; one the state
// machine refuses (anything before hello, a second hello) is answered 'E'
// and closes the connection, as does a frame over MaxFrame.
//
// The server's state machine (generated from the spec):
//
//	stateDiagram-v2
//	    [*] --> greeting
//	    greeting --> ready: hello
//	    ready --> ready: request
//	    greeting --> closed: quit
//	    ready --> closed: quit
package kvbin

//go:generate go run github.com/protogen/protogen/cmd/protogen -spec kvbin.yaml
