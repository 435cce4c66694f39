package kvbin

import (
	"context"
	"fmt"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Dial connects to a kvbin server and says hello: a Client ready for
// requests.
func Dial(ctx context.Context, network, address string, opts ...protoflow.Option) (*Client, error) {
	c, err := DialClient(ctx, network, address, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := c.Hello(ctx, &Hello{Version: Version}); err != nil {
		c.Close()
		return nil, fmt.Errorf("kvbin: hello: %w", err)
	}
	return c, nil
}
