// Package echo is an echo server built with protogen: the protocol type in
// echo.protogen.go is generated from echo.yaml and the hooks are in
// echo_hooks.go. It is the server that protogen's benchmarks measure.
package echo

//go:generate go run github.com/protogen/protogen/cmd/protogen -spec echo.yaml
