// Command offsets-probe is never run: it is built, with DWARF, so that its debug info holds every
// struct whose field offsets quadtrace reads (runtime.g, runtime.hchan, net/http.Request,
// net/http.response, net/http.Response, net/http.Server, net/url.URL). scripts/gen-offsets.sh
// builds it with each Go toolchain, and record's unit tests build it with the machine's `go` to
// check symbols, DWARF and the offsets table against each other.
//
// Everything that matters sits behind a condition on os.Args that the linker cannot decide,
// so the HTTP server, the client and the channel code are all linked in.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) < 100 {
		return
	}
	results := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		resp, err := http.Get("http://127.0.0.1:1/probe")
		if err == nil {
			results <- resp.StatusCode
			resp.Body.Close()
		}
		close(done)
	}()
	select {
	case code := <-results:
		fmt.Println(code)
	case <-done:
	}
	srv := &http.Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintln(w, r.Method, r.Host, r.URL.Path)
	})}
	fmt.Println(srv.ListenAndServe())
}
