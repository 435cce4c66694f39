package main

import "testing"

func TestTypeName(t *testing.T) {
	for path, want := range map[string]string{
		"echo.yaml":            "Echo",
		"dir/my-chat.yml":      "MyChat",
		"kv_store.yaml":        "KvStore",
		"état.yaml":            "État",
		"2fa.yaml":             "Server",
		"-.yaml":               "Server",
		"http2-gateway.v1.yml": "Http2GatewayV1",
	} {
		if got := typeName(path); got != want {
			t.Errorf("typeName(%q) = %q, want %q", path, got, want)
		}
	}
}
