// Command loadgen drives testdata/patterns: it sends GET <url-base>/p/<pattern>/<id-prefix><k>
// for every pattern given, -n requests per pattern, -c at a time, and prints one summary line:
//
//	loadgen: requests=2000 errors=0 elapsed=1.234s req/s=1620.7 patterns=same,go,...
//
// k counts 0, 1, 2, ... over ALL requests of the run (so every id is unique within a run,
// whatever its pattern), and the patterns are interleaved: request k goes to pattern
// k mod len(patterns). A request is an error if it fails or does not answer 200; loadgen
// exits 1 if there was any (the first few are printed to stderr), 2 on bad arguments.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	urlBase := flag.String("url-base", "http://127.0.0.1:9940", "patterns service URL base")
	patternList := flag.String("patterns", "same,go,gowait,nested,fanout,select,pool,poolctx,timer",
		"comma-separated patterns")
	n := flag.Int("n", 100, "requests per pattern")
	c := flag.Int("c", 8, "concurrent requests")
	idPrefix := flag.String("id-prefix", "", "prefix of every request id")
	timeout := flag.Duration("timeout", 30*time.Second, "per-request timeout")
	flag.Parse()

	var patterns []string
	for _, p := range strings.Split(*patternList, ",") {
		if p = strings.TrimSpace(p); p != "" {
			patterns = append(patterns, p)
		}
	}
	if len(patterns) == 0 || *n < 0 || *c < 1 || strings.Contains(*idPrefix, "/") {
		fmt.Fprintln(os.Stderr, "loadgen: need -patterns, -n >= 0, -c >= 1 and an -id-prefix without '/'")
		os.Exit(2)
	}
	base := strings.TrimSuffix(*urlBase, "/")

	client := &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        *c + 16,
			MaxIdleConnsPerHost: *c + 16,
			IdleConnTimeout:     90 * time.Second,
		},
		Timeout: *timeout,
	}

	total := *n * len(patterns)
	work := make(chan int)
	var errors int64
	var errMu sync.Mutex
	var shown int
	fail := func(format string, args ...interface{}) {
		atomic.AddInt64(&errors, 1)
		errMu.Lock()
		defer errMu.Unlock()
		if shown < 5 {
			shown++
			fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				url := fmt.Sprintf("%s/p/%s/%s%d", base, patterns[k%len(patterns)], *idPrefix, k)
				resp, err := client.Get(url)
				if err != nil {
					fail("GET %s: %v", url, err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fail("GET %s: %s", url, resp.Status)
				}
			}
		}()
	}
	for k := 0; k < total; k++ {
		work <- k
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)

	rate := 0.0
	if elapsed > 0 {
		rate = float64(total) / elapsed.Seconds()
	}
	fmt.Printf("loadgen: requests=%d errors=%d elapsed=%.3fs req/s=%.1f concurrency=%d patterns=%s\n",
		total, errors, elapsed.Seconds(), rate, *c, strings.Join(patterns, ","))
	if errors > 0 {
		os.Exit(1)
	}
}
