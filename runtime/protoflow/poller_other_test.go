//go:build !linux

package protoflow

import "time"

// pollerClosesWithin is true: outside Linux there is no poller to close.
func pollerClosesWithin(time.Duration) bool { return true }

// pollerConns is empty: outside Linux there is no poller.
func pollerConns() string { return "" }
