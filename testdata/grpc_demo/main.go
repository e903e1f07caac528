// Command grpc_demo is a gRPC target for quadtrace (issue 11): grpc-go services and clients,
// built offline in GOPATH mode from Debian's golang-google-grpc-dev (grpc-go 1.33) and
// golang-google-protobuf-dev. One binary plays every role, chosen by -mode (or GRPC_DEMO_MODE):
//
//	cart     a gRPC server (grpc.NewServer + Serve on its own listener) on GRPC_ADDR
//	         (default 127.0.0.1:9950) serving cart.v1.Cart: AddItem (unary), Watch
//	         (server-streaming), Upload (client-streaming), Chat (bidi)          service.go
//	web      a net/http server on WEB_ADDR (default 127.0.0.1:9951) whose handlers call the
//	         cart over gRPC (CART_TARGET, default 127.0.0.1:9950)                 web.go
//	gateway  cart.v1.Cart served through net/http (grpc.Server.ServeHTTP behind an
//	         http.Server with TLS, HTTP/2) on GATEWAY_ADDR (default 127.0.0.1:9952),
//	         whose AddItem calls an HTTP endpoint (HTTP_DOWNSTREAM)                gateway.go
//	client   a bounded load driver: unary calls and streams against a Cart, one summary line  client.go
//
// There is no protoc here: requests and replies are google.protobuf.StringValue
// (wrapperspb), and desc.go holds the ServiceDesc and client stubs that protoc-gen-go-grpc
// would have generated. Nothing is logged per request.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
)

var mode = flag.String("mode", envOr("GRPC_DEMO_MODE", "cart"), "cart, web, gateway or client")

// envOr returns the environment variable key, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	flag.Parse()
	var err error
	switch *mode {
	case "cart":
		err = runCart()
	case "web":
		err = runWeb()
	case "gateway":
		err = runGateway()
	case "client":
		os.Exit(runClient())
	default:
		fmt.Fprintf(os.Stderr, "grpc_demo: unknown -mode %q (cart, web, gateway, client)\n", *mode)
		os.Exit(2)
	}
	log.Fatalf("grpc_demo %s: %v", *mode, err)
}
