package main

// The cart service: cart.v1.Cart's four methods, served by a plain grpc.Server on its own
// TCP listener (grpc-go's own HTTP/2 transport, http2Server) in -mode cart, and embedded by
// the gateway (gateway.go) for the streaming methods.

import (
	"context"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// maxWatch bounds a Watch stream, so a typo cannot make a stream that never ends.
const maxWatch = 1000000

type cartService struct {
	// slowNoDeadline is how long AddItem("slow") sleeps when its call has no deadline.
	slowNoDeadline time.Duration
}

func newCartService() *cartService {
	slow, err := time.ParseDuration(envOr("CART_SLOW", "2s"))
	if err != nil {
		log.Fatalf("CART_SLOW: %v", err)
	}
	return &cartService{slowNoDeadline: slow}
}

func runCart() error {
	addr := envOr("GRPC_ADDR", "127.0.0.1:9950")
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	RegisterCartServer(s, newCartService())
	log.Printf("grpc_demo cart: gRPC on %s", lis.Addr())
	return s.Serve(lis)
}

// AddItem answers "added <item>", or an error status chosen by the item:
// "missing" NotFound, "boom" Internal, "slow" a reply only after the caller's deadline.
//
//go:noinline
func (c *cartService) AddItem(ctx context.Context, in *msg) (*msg, error) {
	switch item := in.GetValue(); item {
	case "missing":
		return nil, status.Errorf(codes.NotFound, "no item %q", item)
	case "boom":
		return nil, status.Error(codes.Internal, "boom")
	case "slow":
		// Like a handler that ignores its context: it sleeps 100 ms past the deadline
		// (the client has given up with DeadlineExceeded by then), then answers anyway,
		// so the server side finishes its RPC after the client side did.
		d := c.slowNoDeadline
		if dl, ok := ctx.Deadline(); ok {
			d = time.Until(dl) + 100*time.Millisecond
		}
		time.Sleep(d)
		return wrapperspb.String("added slow"), nil
	case "":
		return nil, status.Error(codes.InvalidArgument, "empty item")
	default:
		return wrapperspb.String("added " + item), nil
	}
}

// watchCount reads N from a Watch request "<anything>:N" or "N".
func watchCount(v string) (int, error) {
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxWatch {
		return 0, status.Errorf(codes.InvalidArgument, "want <name>:N with 0 <= N <= %d, got %q", maxWatch, v)
	}
	return n, nil
}

// Watch sends N messages "<request>#i", i = 1..N, for a request "<name>:N".
//
//go:noinline
func (c *cartService) Watch(in *msg, stream Cart_WatchServer) error {
	n, err := watchCount(in.GetValue())
	if err != nil {
		return err
	}
	prefix := in.GetValue() + "#"
	for i := 1; i <= n; i++ {
		if err := stream.Send(wrapperspb.String(prefix + strconv.Itoa(i))); err != nil {
			return err
		}
	}
	return nil
}

// Upload receives messages until the client closes its side, then answers "received K".
//
//go:noinline
func (c *cartService) Upload(stream Cart_UploadServer) error {
	k := 0
	for {
		_, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(wrapperspb.String("received " + strconv.Itoa(k)))
		}
		if err != nil {
			return err
		}
		k++
	}
}

// Chat echoes every message back as it arrives, until the client closes its side.
//
//go:noinline
func (c *cartService) Chat(stream Cart_ChatServer) error {
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(m); err != nil {
			return err
		}
	}
}
