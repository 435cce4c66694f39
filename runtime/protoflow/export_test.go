package protoflow

// Test helpers shared with the external test package (protoflow_test).
var (
	TCPPair  = tcpPair
	UnixPair = unixPair
)
