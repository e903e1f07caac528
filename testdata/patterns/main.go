// Command patterns is a net/http target for measuring how accurately quadtrace attributes
// outgoing HTTP calls to the inbound request that caused them, one concurrency pattern at a time.
//
// Two processes of this same binary make a pair:
//
//	patterns               listens on 127.0.0.1:9940 (PATTERNS_ADDR) and serves GET /p/<pattern>/<id>
//	patterns -downstream   listens on 127.0.0.1:9941 (PATTERNS_DOWNSTREAM) and answers
//	                       GET /down/<pattern>/<id> with 200
//
// For every inbound GET /p/<pattern>/<id> the service makes GET
// http://<PATTERNS_DOWNSTREAM>/down/<pattern>/<id> (same pattern, same id; fanout makes three),
// on the goroutine structure the pattern names:
//
//	same     the call runs on the handler's goroutine, then the handler answers
//	go       go func() { call }(); the handler answers at once
//	gowait   go func() { call }(), and the handler waits for it (sync.WaitGroup)
//	nested   go -> go -> go (three levels); the innermost goroutine calls; answers at once
//	fanout   three goroutines each make the call, joined with a WaitGroup, then the answer
//	select   the handler sends a *job on a channel that ONE long-lived goroutine (started in
//	         main) receives in a select (the other case is a quit channel); answers at once
//	pool     the handler queues a job struct VALUE on a buffered channel drained by 8
//	         long-lived workers that the FIRST such request starts (sync.Once in the handler,
//	         so the workers descend from that one request's goroutine); answers at once
//	poolctx  like pool, but the job carries the request's context, the worker calls with
//	         req.WithContext(job.ctx), and the 8 workers are started in main; answers at once
//	timer    time.AfterFunc(10ms, func() { call }); answers at once
//	prepool  like pool, but the 8 workers are started in main, and so are already blocked in
//	         their receive when a recorder attaches: their first jobs are handed to them
//	         directly by the runtime; answers at once
//
// Independently of any request, a background goroutine started in main calls
// /down/ticker/<n> every 50 ms (PATTERNS_TICKER, a Go duration; 0 turns it off): those calls
// belong to no request.
//
// Every inbound request is answered 200 "ok" (404 for an unknown pattern). Nothing is logged
// per request, except with -log in the downstream process. Both processes serve GET /stats:
// JSON counters per pattern (downstream: requests received; service: inbound requests,
// downstream calls finished and call errors).
//
// The handlers are plain code (no //go:noinline): what the compiler inlines is what a real
// service would get.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	defaultAddr       = "127.0.0.1:9940"
	defaultDownstream = "127.0.0.1:9941"
	poolWorkers       = 8
	queueLen          = 4096
)

// downBase is "http://<downstream address>", without a trailing slash.
var downBase string

// client is the one client every downstream call goes through: keep-alives on, and enough
// idle connections per host that concurrent calls reuse them instead of redialling.
var client = &http.Client{
	Transport: &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	},
	Timeout: 0, // no deadline: a timeout would wrap the request's context
}

// ---- counters ---------------------------------------------------------------------------------

type counters struct {
	mu sync.Mutex
	m  map[string]int64
}

func newCounters() *counters { return &counters{m: map[string]int64{}} }

func (c *counters) add(key string) {
	c.mu.Lock()
	c.m[key]++
	c.mu.Unlock()
}

func (c *counters) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

var (
	inbound   = newCounters() // service: inbound /p/<pattern>/ requests
	calls     = newCounters() // service: downstream calls finished (whatever their outcome)
	callErrs  = newCounters() // service: downstream calls that failed or were not 200
	downHits  = newCounters() // downstream: /down/<pattern>/ requests
	downPaths = newCounters() // downstream: anything else it was asked
)

func serveStats(w http.ResponseWriter, groups map[string]*counters) {
	out := map[string]map[string]int64{}
	for name, c := range groups {
		out[name] = c.snapshot()
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// ---- the downstream call ------------------------------------------------------------------------

// call makes GET <downstream>/down/<pattern>/<id> with ctx (nil: the request's own default),
// reads and closes the body so the connection goes back to the pool.
func call(ctx context.Context, pattern, id string) {
	// Counted once the call is over, so that a driver can wait on /stats until every
	// asynchronous call (pool, timer, ...) has finished.
	defer calls.add(pattern)
	req, err := http.NewRequest(http.MethodGet, downBase+"/down/"+pattern+"/"+id, nil)
	if err != nil {
		callErrs.add(pattern)
		return
	}
	if ctx != nil {
		req = req.WithContext(ctx)
	}
	resp, err := client.Do(req)
	if err != nil {
		callErrs.add(pattern)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		callErrs.add(pattern)
	}
}

func ok(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok\n")
}

// ---- the patterns -------------------------------------------------------------------------------

func patternSame(w http.ResponseWriter, r *http.Request, id string) {
	call(nil, "same", id)
	ok(w)
}

func patternGo(w http.ResponseWriter, r *http.Request, id string) {
	go func() {
		call(nil, "go", id)
	}()
	ok(w)
}

func patternGowait(w http.ResponseWriter, r *http.Request, id string) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		call(nil, "gowait", id)
	}()
	wg.Wait()
	ok(w)
}

func patternNested(w http.ResponseWriter, r *http.Request, id string) {
	go func() { // level 1
		go func() { // level 2
			go func() { // level 3: the call
				call(nil, "nested", id)
			}()
		}()
	}()
	ok(w)
}

func patternFanout(w http.ResponseWriter, r *http.Request, id string) {
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call(nil, "fanout", id)
		}()
	}
	wg.Wait()
	ok(w)
}

// select: a pointer to a job on an unbuffered channel, received by one goroutine's select.

type selectJob struct {
	id string
}

var (
	selectJobs = make(chan *selectJob)
	quit       = make(chan struct{})
)

func selectLoop() {
	for {
		select {
		case j := <-selectJobs:
			call(nil, "select", j.id)
		case <-quit:
			return
		}
	}
}

func patternSelect(w http.ResponseWriter, r *http.Request, id string) {
	selectJobs <- &selectJob{id: id}
	ok(w)
}

// pool: job values on a buffered queue; the workers start with the first pool request.

type poolJob struct {
	id string
	n  int
}

var (
	poolQueue = make(chan poolJob, queueLen)
	poolOnce  sync.Once
)

func poolWorker() {
	for j := range poolQueue {
		call(nil, "pool", j.id)
	}
}

func patternPool(w http.ResponseWriter, r *http.Request, id string) {
	poolOnce.Do(func() {
		for i := 0; i < poolWorkers; i++ {
			go poolWorker()
		}
	})
	poolQueue <- poolJob{id: id, n: len(id)}
	ok(w)
}

// poolctx: job values carrying the request's context; the workers start in main.

type ctxJob struct {
	ctx context.Context
	id  string
}

var poolctxQueue = make(chan ctxJob, queueLen)

func poolctxWorker() {
	for j := range poolctxQueue {
		call(j.ctx, "poolctx", j.id)
	}
}

func patternPoolctx(w http.ResponseWriter, r *http.Request, id string) {
	// r.Context() is cancelled as soon as this handler returns, usually before a worker
	// takes the job: detach it (see detach_*.go).
	poolctxQueue <- ctxJob{ctx: detach(r.Context()), id: id}
	ok(w)
}

// prepool: job values on a buffered queue drained by workers started in main.

var prepoolQueue = make(chan poolJob, queueLen)

func prepoolWorker() {
	for j := range prepoolQueue {
		call(nil, "prepool", j.id)
	}
}

func patternPrepool(w http.ResponseWriter, r *http.Request, id string) {
	prepoolQueue <- poolJob{id: id, n: len(id)}
	ok(w)
}

func patternTimer(w http.ResponseWriter, r *http.Request, id string) {
	time.AfterFunc(10*time.Millisecond, func() {
		call(nil, "timer", id)
	})
	ok(w)
}

// tickerLoop makes calls of its own, caused by no request.
func tickerLoop(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-t.C:
			call(nil, "ticker", fmt.Sprint(n))
		case <-quit:
			return
		}
	}
}

var handlers = map[string]func(http.ResponseWriter, *http.Request, string){
	"same":    patternSame,
	"go":      patternGo,
	"gowait":  patternGowait,
	"nested":  patternNested,
	"fanout":  patternFanout,
	"select":  patternSelect,
	"pool":    patternPool,
	"poolctx": patternPoolctx,
	"timer":   patternTimer,
	"prepool": patternPrepool,
}

// splitPath takes "/<prefix>/<pattern>/<id>" apart.
func splitPath(path, prefix string) (pattern, id string, good bool) {
	rest := strings.TrimPrefix(path, prefix)
	i := strings.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 || strings.IndexByte(rest[i+1:], '/') >= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

func serveP(w http.ResponseWriter, r *http.Request) {
	pattern, id, good := splitPath(r.URL.Path, "/p/")
	h := handlers[pattern]
	if !good || h == nil || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	inbound.add(pattern)
	h(w, r, id)
}

// ---- downstream ---------------------------------------------------------------------------------

func serveDownstream(addr string, logRequests bool) {
	mux := http.NewServeMux()
	mux.HandleFunc("/down/", func(w http.ResponseWriter, r *http.Request) {
		pattern, id, good := splitPath(r.URL.Path, "/down/")
		if !good {
			downPaths.add(r.URL.Path)
			http.NotFound(w, r)
			return
		}
		downHits.add(pattern)
		if logRequests {
			log.Printf("%s %s (pattern %s, id %s)", r.Method, r.URL.Path, pattern, id)
		}
		ok(w)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		serveStats(w, map[string]*counters{"received": downHits, "other": downPaths})
	})
	log.Printf("patterns: downstream listening on %s", addr)
	log.Fatal((&http.Server{Addr: addr, Handler: mux}).ListenAndServe())
}

func main() {
	downstreamMode := flag.Bool("downstream", false, "serve GET /down/<pattern>/<id> on PATTERNS_DOWNSTREAM instead")
	logRequests := flag.Bool("log", false, "downstream: log every request")
	flag.Parse()

	down := defaultDownstream
	if v := os.Getenv("PATTERNS_DOWNSTREAM"); v != "" {
		down = strings.TrimSuffix(strings.TrimPrefix(v, "http://"), "/")
	}
	if *downstreamMode {
		serveDownstream(down, *logRequests)
		return
	}
	downBase = "http://" + down

	addr := defaultAddr
	if v := os.Getenv("PATTERNS_ADDR"); v != "" {
		addr = v
	}
	tick := 50 * time.Millisecond
	if v := os.Getenv("PATTERNS_TICKER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			log.Fatalf("PATTERNS_TICKER=%q: %v", v, err)
		}
		tick = d
	}

	go selectLoop()
	for i := 0; i < poolctxWorkers; i++ {
		go poolctxWorker()
	}
	for i := 0; i < poolWorkers; i++ {
		go prepoolWorker()
	}
	if tick > 0 {
		go tickerLoop(tick)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/p/", serveP)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		serveStats(w, map[string]*counters{"inbound": inbound, "calls": calls, "errors": callErrs})
	})
	names := make([]string, 0, len(handlers))
	for name := range handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	log.Printf("patterns: listening on %s (downstream %s, ticker %v; patterns %s)",
		addr, downBase, tick, strings.Join(names, ","))
	log.Fatal((&http.Server{Addr: addr, Handler: mux}).ListenAndServe())
}

const poolctxWorkers = poolWorkers
