package generated_example_test

import (
	"testing"
	"unsafe"

	"github.com/protogen/protogen/generated_example/echo"
	"github.com/protogen/protogen/generated_example/kv"
	"github.com/protogen/protogen/generated_example/kvbin"
	"github.com/protogen/protogen/generated_example/redis"
)

// TestProtocolSizes holds each generated protocol type, which every
// connection carries for its whole life, to its size: an idle connection
// of the loop backend is its transport (152 bytes) and this. Raise a limit
// only with the reason in the commit message.
func TestProtocolSizes(t *testing.T) {
	for _, s := range []struct {
		name      string
		size, max uintptr
	}{
		{"echo.Echo", unsafe.Sizeof(echo.Echo{}), 56},
		{"kv.Server", unsafe.Sizeof(kv.Server{}), 192},
		{"kv.ClientProtocol", unsafe.Sizeof(kv.ClientProtocol{}), 248},
		{"kvbin.Server", unsafe.Sizeof(kvbin.Server{}), 200},
		{"kvbin.ClientProtocol", unsafe.Sizeof(kvbin.ClientProtocol{}), 248},
		{"redis.Server", unsafe.Sizeof(redis.Server{}), 392},
	} {
		t.Logf("%s: %d bytes", s.name, s.size)
		if s.size > s.max {
			t.Errorf("%s is %d bytes, more than its %d", s.name, s.size, s.max)
		}
	}
}
