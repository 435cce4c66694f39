// Package kvbin is a binary key-value server and client built with
// protogen from kvbin.yaml: length-prefixed frames, a handshake kept by a
// generated state machine, and a read timeout. The protocol types in
// kvbin.protogen.go are generated; the hooks in kvbin_hooks.go and the
// client in client.go are written by hand.
//
// Every message is a frame: a 4-byte big-endian length, then that many
// bytes of payload (at most MaxFrame). A payload is an operation byte and
// its body:
//
//	'H' version     hello: the first request, within the read timeout;
//	                the server answers 'H' with its version
//	'G' key         get: answered 'V' value, or 'N' when the key is missing
//	'S' n key value set: n is the key's length (2 bytes, big-endian);
//	                answered 'O'
//	'D' key         delete: answered 'O', or 'N' when the key was missing
//	'Q'             quit: answered 'O', then the server closes
//
// Replies come in the order of the requests, so clients may pipeline. An
// error is 'E' and a message; a request before hello, or a second hello,
// is refused by the state machine and closes the connection, as does a
// frame over MaxFrame.
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
