// Package any stands in for a package whose name is a predeclared
// identifier (as github.com/golang/protobuf/ptypes/any is).
package any

// Any is a message.
type Any struct{ TypeURL string }
