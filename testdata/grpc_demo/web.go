package main

// -mode web: a net/http service whose handlers are gRPC clients of the cart, through one
// shared grpc.ClientConn (as a real service keeps one per backend). "HTTP in, gRPC out."
//
//	GET /checkout?item=X   AddItem(X)
//	GET /watch?n=N         Watch("web:N"), reads all N messages
//	GET /upload?n=N        Upload of N messages
//	GET /chat?n=N          Chat, N round trips
//
// Each answers 200 {"code":"OK",...}, or 502 {"code":"<gRPC code>",...} with the numeric
// code in the X-Grpc-Code header (the gateway maps it back to a gRPC status). The gRPC calls
// carry the request's context plus a deadline: WEB_TIMEOUT (default 1s), or ?timeout=D.

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type web struct {
	cart    CartClient
	timeout time.Duration
}

type webReply struct {
	Code  string `json:"code"`
	Msg   string `json:"msg,omitempty"`
	Count int    `json:"count,omitempty"`
}

func runWeb() error {
	addr := envOr("WEB_ADDR", "127.0.0.1:9951")
	target := envOr("CART_TARGET", "127.0.0.1:9950")
	timeout, err := time.ParseDuration(envOr("WEB_TIMEOUT", "1s"))
	if err != nil {
		return err
	}
	// Dial does not wait for the connection: the first call does.
	conn, err := grpc.Dial(target, grpc.WithInsecure())
	if err != nil {
		return err
	}
	w := &web{cart: NewCartClient(conn), timeout: timeout}
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout", w.checkout)
	mux.HandleFunc("/watch", w.watch)
	mux.HandleFunc("/upload", w.upload)
	mux.HandleFunc("/chat", w.chat)
	log.Printf("grpc_demo web: HTTP on %s, cart at %s", addr, target)
	return (&http.Server{Addr: addr, Handler: mux}).ListenAndServe()
}

// callContext is the request's context with the call deadline (?timeout= overrides it).
func (s *web) callContext(r *http.Request) (context.Context, context.CancelFunc) {
	d := s.timeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		if t, err := time.ParseDuration(v); err == nil {
			d = t
		}
	}
	return context.WithTimeout(r.Context(), d)
}

// queryN is ?n=, default 10.
func queryN(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 {
		return 10
	}
	return n
}

//go:noinline
func writeReply(w http.ResponseWriter, err error, msg string, count int) {
	code := status.Code(err) // OK for nil, Unknown for a non-status error
	httpCode := http.StatusOK
	if err != nil {
		httpCode = http.StatusBadGateway
		msg = status.Convert(err).Message()
		w.Header().Set("X-Grpc-Code", strconv.Itoa(int(code)))
	}
	b, _ := json.Marshal(webReply{Code: code.String(), Msg: msg, Count: count})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(append(b, '\n'))
}

//go:noinline
func (s *web) checkout(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.callContext(r)
	defer cancel()
	reply, err := s.cart.AddItem(ctx, wrapperspb.String(r.URL.Query().Get("item")))
	writeReply(w, err, reply.GetValue(), 0)
}

//go:noinline
func (s *web) watch(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.callContext(r)
	defer cancel()
	n := queryN(r)
	got, err := callWatch(ctx, s.cart, "web", n)
	if err == nil && got != n {
		err = status.Errorf(codes.DataLoss, "Watch: %d messages, want %d", got, n)
	}
	writeReply(w, err, "watched", got)
}

//go:noinline
func (s *web) upload(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.callContext(r)
	defer cancel()
	n := queryN(r)
	got, err := callUpload(ctx, s.cart, "web", n)
	if err == nil && got != n {
		err = status.Errorf(codes.DataLoss, "Upload: server received %d, sent %d", got, n)
	}
	writeReply(w, err, "uploaded", got)
}

//go:noinline
func (s *web) chat(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.callContext(r)
	defer cancel()
	n := queryN(r)
	got, err := callChat(ctx, s.cart, "web", n)
	writeReply(w, err, "chatted", got)
}
