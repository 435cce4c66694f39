//go:build !linux

package protoflow

import "errors"

// epollEnabled is false: outside Linux every connection has a reader
// goroutine.
const epollEnabled = false

type poller struct{}

func pollRegister(*conn) error { return errors.ErrUnsupported }

func pollUnregister(*conn) {}

func pollRearm(*conn) {}

func pollWatchHup(*conn) {}

func pollWatchGone(*conn) {}

func (*conn) lostUnread() {}
