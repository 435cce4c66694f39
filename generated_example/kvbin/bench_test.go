package kvbin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// BenchmarkServerGet measures the generated framed path end to end over
// loopback TCP: a batch of 100 pipelined GET frames, then their 100
// replies. With -benchmem it shows what the server allocates per request
// in steady state (the client side here reads into one reused buffer).
func BenchmarkServerGet(b *testing.B) {
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

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	hello, _ := Codec.AppendFrame(nil, append([]byte{opHello}, Version...))
	if _, err := c.Write(hello); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	readReply := func() {
		if _, err := io.ReadFull(r, buf[:4]); err != nil {
			b.Fatal(err)
		}
		n := binary.BigEndian.Uint32(buf[:4])
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
	readReply()
	get, _ := Codec.AppendFrame(nil, []byte("Gk"))
	const batch = 100
	requests := bytes.Repeat(get, batch)
	b.SetBytes(int64(len(requests)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(requests); err != nil {
			b.Fatal(err)
		}
		for range batch {
			readReply()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/request")
}
