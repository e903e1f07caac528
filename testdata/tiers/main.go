// Command tiers is one HTTP service whose shape comes from its environment, so that a single
// binary can play every pod of the end-to-end tests of record/tests/pods (the point there:
// one executable, several services, told apart only by how they are deployed).
//
//	TIERS_ADDR   listen address (default :8080)
//	TIERS_CALLS  PATH=URL[,PATH=URL...]: a request for PATH calls GET URL, on the handler's
//	             goroutine with the request's context, for each of its URLs in the order
//	             given, then answers 200 (502 if a call failed or did not answer 200)
//
// Any other path answers 200 at once. It handles requests with a bare http.HandlerFunc, not a
// ServeMux: a catch-all ServeMux pattern ("/") would become every request's route on Go ≥ 1.22,
// and the tests want the raw paths as the funcs of the quadruples. It logs nothing per request.
package main

import (
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

// calls maps a path to the URLs a request for it calls.
var calls = map[string][]string{}

// client keeps connections alive, as a real service's does; no proxy from the environment.
var client = &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}

func parseCalls(spec string) {
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		path, url, ok := strings.Cut(entry, "=")
		if !ok || !strings.HasPrefix(path, "/") {
			log.Fatalf("TIERS_CALLS: %q is not PATH=URL", entry)
		}
		calls[path] = append(calls[path], url)
	}
}

// call GETs url for the request r and reports whether it answered 200.
func call(r *http.Request, url string) bool {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	// Read to the end so that the connection goes back to the pool.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func serve(w http.ResponseWriter, r *http.Request) {
	for _, url := range calls[r.URL.Path] {
		if !call(r, url) {
			http.Error(w, "downstream call failed: "+url, http.StatusBadGateway)
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

func main() {
	addr := ":8080"
	if v := os.Getenv("TIERS_ADDR"); v != "" {
		addr = v
	}
	parseCalls(os.Getenv("TIERS_CALLS"))
	server := &http.Server{Addr: addr, Handler: http.HandlerFunc(serve)}
	log.Fatal(server.ListenAndServe())
}
