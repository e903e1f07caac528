package main

// One complete RPC of each streaming method, as a caller makes it; shared by the web
// handlers (web.go) and the load driver (client.go). Each returns how many messages it got
// (Watch, Chat) or the count the server reported (Upload), so callers can check them.

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// callWatch opens Watch("<name>:k") and reads the stream to its end.
func callWatch(ctx context.Context, c CartClient, name string, k int) (int, error) {
	stream, err := c.Watch(ctx, wrapperspb.String(name+":"+strconv.Itoa(k)))
	if err != nil {
		return 0, err
	}
	got := 0
	for {
		_, err := stream.Recv()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got++
	}
}

// callUpload sends k messages on Upload and returns the count the server answers.
func callUpload(ctx context.Context, c CartClient, name string, k int) (int, error) {
	stream, err := c.Upload(ctx)
	if err != nil {
		return 0, err
	}
	for i := 1; i <= k; i++ {
		if err := stream.Send(wrapperspb.String(name + "#" + strconv.Itoa(i))); err != nil {
			// The real cause is the stream's status, which RecvMsg returns.
			break
		}
	}
	reply, err := stream.CloseAndRecv()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(reply.GetValue(), "received "))
	if err != nil {
		return 0, status.Errorf(codes.Unknown, "bad Upload reply %q", reply.GetValue())
	}
	return n, nil
}

// callChat sends k messages on Chat, one at a time, each after the echo of the previous
// one came back (a ping-pong, so each message is one round trip).
func callChat(ctx context.Context, c CartClient, name string, k int) (int, error) {
	stream, err := c.Chat(ctx)
	if err != nil {
		return 0, err
	}
	got := 0
	for i := 1; i <= k; i++ {
		want := name + "#" + strconv.Itoa(i)
		if err := stream.Send(wrapperspb.String(want)); err != nil {
			break // the status comes from Recv below
		}
		m, err := stream.Recv()
		if err != nil {
			return got, err
		}
		if m.GetValue() != want {
			return got, status.Errorf(codes.Unknown, "echo %q, want %q", m.GetValue(), want)
		}
		got++
	}
	if err := stream.CloseSend(); err != nil {
		return got, err
	}
	if _, err := stream.Recv(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("Chat: message after the last echo")
		}
		return got, err
	}
	return got, nil
}
