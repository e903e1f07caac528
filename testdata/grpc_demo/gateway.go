package main

// -mode gateway: cart.v1.Cart served by grpc.Server.ServeHTTP inside a net/http server, the
// other way grpc-go serves (its serverHandlerTransport instead of its own http2Server), and
// an AddItem that makes an HTTP call while it serves the gRPC call ("gRPC in, HTTP out").
// ServeHTTP needs HTTP/2, which net/http speaks only over TLS (h2 by ALPN); so the gateway
// serves TLS, with GATEWAY_CERT/GATEWAY_KEY (PEM files) or a throwaway self-signed
// certificate made at start (cert.go). Clients: grpc_demo -mode client -tls (no verification).
//
//	GATEWAY_ADDR     listen address, default 127.0.0.1:9952
//	HTTP_DOWNSTREAM  URL AddItem GETs, with ?item=<item> added; default
//	                 http://127.0.0.1:9951/checkout (the web mode, which calls the cart)
//
// Non-gRPC requests (e.g. curl -k https://127.0.0.1:9952/healthz) go to a ServeMux.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// gatewayService overrides AddItem; Watch, Upload and Chat are the cart's.
type gatewayService struct {
	*cartService
	downstream *url.URL
	client     *http.Client
}

func runGateway() error {
	addr := envOr("GATEWAY_ADDR", "127.0.0.1:9952")
	downstream, err := url.Parse(envOr("HTTP_DOWNSTREAM", "http://127.0.0.1:9951/checkout"))
	if err != nil {
		return err
	}
	cert, err := gatewayCert(envOr("GATEWAY_CERT", ""), envOr("GATEWAY_KEY", ""))
	if err != nil {
		return err
	}
	gs := grpc.NewServer()
	RegisterCartServer(gs, &gatewayService{
		cartService: newCartService(),
		downstream:  downstream,
		// One keep-alive client for all calls; a Transport of its own ignores proxy variables.
		client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", healthz)
	srv := &http.Server{
		Addr:      addr,
		Handler:   grpcOrHTTP(gs, mux),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	log.Printf("grpc_demo gateway: gRPC over net/http TLS on %s, AddItem calls %s", addr, downstream)
	// With TLSConfig set, ListenAndServeTLS configures net/http's HTTP/2 (ALPN h2) itself.
	return srv.ListenAndServeTLS("", "")
}

// grpcOrHTTP sends HTTP/2 gRPC requests to the gRPC server and everything else to mux,
// the dispatch grpc-go's ServeHTTP documentation suggests.
func grpcOrHTTP(gs *grpc.Server, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			gs.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

//go:noinline
func healthz(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok "+r.Proto+"\n")
}

// AddItem GETs HTTP_DOWNSTREAM?item=<item> with the call's context (so its deadline) and
// answers from the HTTP status: 200 is OK; a reply with X-Grpc-Code (the web mode's) gives
// that code back; any other status Unavailable; a failed call DeadlineExceeded if the
// deadline passed, otherwise Unavailable.
//
//go:noinline
func (g *gatewayService) AddItem(ctx context.Context, in *msg) (*msg, error) {
	u := *g.downstream
	q := u.Query()
	q.Set("item", in.GetValue())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	resp, err := g.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			return nil, status.Error(codes.DeadlineExceeded, err.Error())
		}
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if resp.StatusCode == http.StatusOK {
		return wrapperspb.String("gateway: " + strings.TrimSpace(string(body))), nil
	}
	if c, err := strconv.Atoi(resp.Header.Get("X-Grpc-Code")); err == nil && c > 0 && c <= 16 {
		return nil, status.Errorf(codes.Code(c), "downstream: %s", strings.TrimSpace(string(body)))
	}
	return nil, status.Error(codes.Unavailable, fmt.Sprintf("downstream answered %s", resp.Status))
}
