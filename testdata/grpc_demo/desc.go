package main

// What protoc + protoc-gen-go-grpc would generate for
//
//	package cart.v1;
//	service Cart {
//	  rpc AddItem(google.protobuf.StringValue) returns (google.protobuf.StringValue);
//	  rpc Watch(google.protobuf.StringValue) returns (stream google.protobuf.StringValue);
//	  rpc Upload(stream google.protobuf.StringValue) returns (google.protobuf.StringValue);
//	  rpc Chat(stream google.protobuf.StringValue) returns (stream google.protobuf.StringValue);
//	}
//
// written by hand (no protoc on this machine), with the same shape as generated code, so that
// the call paths inside grpc-go (handler funcs in a ServiceDesc, ClientConn.Invoke and
// NewStream from the stubs) are those of a real service.

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type msg = wrapperspb.StringValue

// CartServer is the server API of cart.v1.Cart.
type CartServer interface {
	AddItem(context.Context, *msg) (*msg, error)
	Watch(*msg, Cart_WatchServer) error
	Upload(Cart_UploadServer) error
	Chat(Cart_ChatServer) error
}

// RegisterCartServer registers srv's methods under the service name cart.v1.Cart.
func RegisterCartServer(s *grpc.Server, srv CartServer) {
	s.RegisterService(&cartServiceDesc, srv)
}

var cartServiceDesc = grpc.ServiceDesc{
	ServiceName: "cart.v1.Cart",
	HandlerType: (*CartServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "AddItem", Handler: _Cart_AddItem_Handler},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Watch", Handler: _Cart_Watch_Handler, ServerStreams: true},
		{StreamName: "Upload", Handler: _Cart_Upload_Handler, ClientStreams: true},
		{StreamName: "Chat", Handler: _Cart_Chat_Handler, ServerStreams: true, ClientStreams: true},
	},
	Metadata: "cart/v1/cart.proto",
}

func _Cart_AddItem_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(msg)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CartServer).AddItem(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/cart.v1.Cart/AddItem"}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CartServer).AddItem(ctx, req.(*msg))
	}
	return interceptor(ctx, in, info, handler)
}

func _Cart_Watch_Handler(srv interface{}, stream grpc.ServerStream) error {
	m := new(msg)
	if err := stream.RecvMsg(m); err != nil {
		return err
	}
	return srv.(CartServer).Watch(m, &cartWatchServer{stream})
}

func _Cart_Upload_Handler(srv interface{}, stream grpc.ServerStream) error {
	return srv.(CartServer).Upload(&cartUploadServer{stream})
}

func _Cart_Chat_Handler(srv interface{}, stream grpc.ServerStream) error {
	return srv.(CartServer).Chat(&cartChatServer{stream})
}

// Server-side stream types.

type Cart_WatchServer interface {
	Send(*msg) error
	grpc.ServerStream
}

type cartWatchServer struct{ grpc.ServerStream }

func (x *cartWatchServer) Send(m *msg) error { return x.ServerStream.SendMsg(m) }

type Cart_UploadServer interface {
	SendAndClose(*msg) error
	Recv() (*msg, error)
	grpc.ServerStream
}

type cartUploadServer struct{ grpc.ServerStream }

func (x *cartUploadServer) SendAndClose(m *msg) error { return x.ServerStream.SendMsg(m) }

func (x *cartUploadServer) Recv() (*msg, error) {
	m := new(msg)
	if err := x.ServerStream.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

type Cart_ChatServer interface {
	Send(*msg) error
	Recv() (*msg, error)
	grpc.ServerStream
}

type cartChatServer struct{ grpc.ServerStream }

func (x *cartChatServer) Send(m *msg) error { return x.ServerStream.SendMsg(m) }

func (x *cartChatServer) Recv() (*msg, error) {
	m := new(msg)
	if err := x.ServerStream.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

// CartClient is the client API of cart.v1.Cart.
type CartClient interface {
	AddItem(ctx context.Context, in *msg, opts ...grpc.CallOption) (*msg, error)
	Watch(ctx context.Context, in *msg, opts ...grpc.CallOption) (Cart_WatchClient, error)
	Upload(ctx context.Context, opts ...grpc.CallOption) (Cart_UploadClient, error)
	Chat(ctx context.Context, opts ...grpc.CallOption) (Cart_ChatClient, error)
}

type cartClient struct{ cc grpc.ClientConnInterface }

// NewCartClient wraps a connection (a *grpc.ClientConn) in the cart.v1.Cart stubs.
func NewCartClient(cc grpc.ClientConnInterface) CartClient { return &cartClient{cc} }

func (c *cartClient) AddItem(ctx context.Context, in *msg, opts ...grpc.CallOption) (*msg, error) {
	out := new(msg)
	if err := c.cc.Invoke(ctx, "/cart.v1.Cart/AddItem", in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *cartClient) Watch(ctx context.Context, in *msg, opts ...grpc.CallOption) (Cart_WatchClient, error) {
	stream, err := c.cc.NewStream(ctx, &cartServiceDesc.Streams[0], "/cart.v1.Cart/Watch", opts...)
	if err != nil {
		return nil, err
	}
	x := &cartWatchClient{stream}
	if err := x.ClientStream.SendMsg(in); err != nil {
		return nil, err
	}
	if err := x.ClientStream.CloseSend(); err != nil {
		return nil, err
	}
	return x, nil
}

func (c *cartClient) Upload(ctx context.Context, opts ...grpc.CallOption) (Cart_UploadClient, error) {
	stream, err := c.cc.NewStream(ctx, &cartServiceDesc.Streams[1], "/cart.v1.Cart/Upload", opts...)
	if err != nil {
		return nil, err
	}
	return &cartUploadClient{stream}, nil
}

func (c *cartClient) Chat(ctx context.Context, opts ...grpc.CallOption) (Cart_ChatClient, error) {
	stream, err := c.cc.NewStream(ctx, &cartServiceDesc.Streams[2], "/cart.v1.Cart/Chat", opts...)
	if err != nil {
		return nil, err
	}
	return &cartChatClient{stream}, nil
}

// Client-side stream types.

type Cart_WatchClient interface {
	Recv() (*msg, error)
	grpc.ClientStream
}

type cartWatchClient struct{ grpc.ClientStream }

func (x *cartWatchClient) Recv() (*msg, error) {
	m := new(msg)
	if err := x.ClientStream.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

type Cart_UploadClient interface {
	Send(*msg) error
	CloseAndRecv() (*msg, error)
	grpc.ClientStream
}

type cartUploadClient struct{ grpc.ClientStream }

func (x *cartUploadClient) Send(m *msg) error { return x.ClientStream.SendMsg(m) }

func (x *cartUploadClient) CloseAndRecv() (*msg, error) {
	if err := x.ClientStream.CloseSend(); err != nil {
		return nil, err
	}
	m := new(msg)
	if err := x.ClientStream.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

type Cart_ChatClient interface {
	Send(*msg) error
	Recv() (*msg, error)
	grpc.ClientStream
}

type cartChatClient struct{ grpc.ClientStream }

func (x *cartChatClient) Send(m *msg) error { return x.ClientStream.SendMsg(m) }

func (x *cartChatClient) Recv() (*msg, error) {
	m := new(msg)
	if err := x.ClientStream.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}
