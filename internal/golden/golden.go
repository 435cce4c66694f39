// Package golden holds what protogen's golden tests share: the -update
// flag, which every test package registers by importing this one, so that
// "go test ./... -update" works in every package and not only those with
// golden files.
package golden

import "flag"

// Update is the -update flag: rewrite golden files from the current output
// instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite golden files from the current output")
