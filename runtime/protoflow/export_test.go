package protoflow

// Test helpers shared with the external test package (protoflow_test).
var (
	TCPPair  = tcpPair
	UnixPair = unixPair

	// BackendName is the backend this test process runs on: "loop",
	// "epoll" or "goroutine".
	BackendName = backendName
)
