// Command http_demo is a plain net/http target for quadtrace.
//
// It listens on 0.0.0.0:9932 (override with DEMO_ADDR) and serves:
//
//	GET /echo    answers {"errno":0,"errmsg":"ok"}
//	GET /handle  calls GET <downstream>/echo with http.Client.Do, serially on
//	             the handler's goroutine, reads and closes the body, then answers
//	             {"errno":0,"errmsg":"request okay"}
//	GET /users/ID  answers {"errno":0,"errmsg":"user"} (route "GET /users/{id}" on Go ≥ 1.22)
//	GET /profile calls GET <downstream>/users/<random id>, then answers
//
// The downstream URL base defaults to http://0.0.0.0:9932 (this same server)
// and can be overridden with DEMO_DOWNSTREAM. Set DEMO_VERBOSE=1 to log every
// downstream response body; by default nothing is printed per request. DEMO_TLS_* serve and
// call over TLS (tls.go), DEMO_H2C=1 over cleartext HTTP/2 (h2c.go).
package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
)

const (
	defaultAddr       = "0.0.0.0:9932"
	defaultDownstream = "http://0.0.0.0:9932"
)

var (
	downstream = defaultDownstream
	verbose    = false
)

type reply struct {
	Errno  int    `json:"errno"`
	Errmsg string `json:"errmsg"`
}

//go:noinline
func writeJSON(w http.ResponseWriter, code int, r reply) {
	b, _ := json.Marshal(r)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

//go:noinline
func echo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, reply{Errno: 0, Errmsg: "ok"})
}

//go:noinline
func handle(w http.ResponseWriter, r *http.Request) {
	client := http.Client{Transport: transport}
	req, err := http.NewRequest(http.MethodGet, downstream+"/echo", nil)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		writeJSON(w, http.StatusBadGateway, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	if verbose {
		log.Printf("resp: %s", body)
	}
	writeJSON(w, http.StatusOK, reply{Errno: 0, Errmsg: "request okay"})
}

func main() {
	addr := defaultAddr
	if v := os.Getenv("DEMO_ADDR"); v != "" {
		addr = v
	}
	if v := os.Getenv("DEMO_DOWNSTREAM"); v != "" {
		downstream = v
	}
	verbose = os.Getenv("DEMO_VERBOSE") == "1"
	setupTLSClient()

	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/handle", handle)
	registerRoutes(mux)

	server := &http.Server{Addr: addr, Handler: mux}
	if h2cEnabled() {
		setupH2C(server)
	}
	log.Printf("http_demo listening on %s (downstream %s)", addr, downstream)
	log.Fatal(serve(server))
}
