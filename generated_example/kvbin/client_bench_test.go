package kvbin

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// BenchmarkClientGet measures the generated client: 64 goroutines share
// one connection, each calling Get in a loop, so that the calls pipeline
// on the wire and the replies are matched to them in order. It reports
// requests per second and what a call allocates (-benchmem). The same
// benchmark of the hand-written client that kvbin had before (at main,
// before issue 17) gives the comparison in the README's note.
func BenchmarkClientGet(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	store := NewStore()
	store.set([]byte("k"), bytes.Repeat([]byte("v"), 100))
	srv := protoflow.NewServer(store.Protocol)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // ends with Shutdown below
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}()
	ctx := context.Background()
	c, err := Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	const callers = 64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	var failed sync.Once
	next := make(chan struct{}, callers)
	for range callers {
		wg.Go(func() {
			get := &Get{Key: []byte("k")}
			for range next {
				r, err := c.Get(ctx, get)
				if v, ok := r.(*Value); err != nil || !ok || len(v.Value) != 100 {
					failed.Do(func() { b.Errorf("Get: %#v, %v", r, err) })
				}
			}
		})
	}
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
