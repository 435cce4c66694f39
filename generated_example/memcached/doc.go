// Package memcached is a memcached-compatible server built with protogen.
package memcached

//go:generate go run github.com/protogen/protogen/cmd/protogen -spec memcached.yaml
