package main

// -mode client: a bounded load driver for tests. It makes -n unary AddItem calls (items
// taken in turn from -items) and -streams streams of -k messages (kinds taken in turn from
// -kinds), -c at a time over one connection, each with the deadline -timeout, and stops
// starting new calls after -duration. It prints one line:
//
//	client: calls=130 ok=100 errors=30 DeadlineExceeded=10 Internal=10 NotFound=10 msgs=300 skipped=0 elapsed=1.234s
//
// msgs counts stream messages received (Watch, Chat) or acknowledged (Upload). A stream that
// ends OK with the wrong count is an error "CountMismatch". Exit status 1 if -strict and any
// call failed, or if nothing could be started.

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

var (
	clTarget   = flag.String("target", envOr("CART_TARGET", "127.0.0.1:9950"), "client: address of the Cart service")
	clTLS      = flag.Bool("tls", false, "client: TLS without certificate verification (for -mode gateway)")
	clN        = flag.Int("n", 100, "client: unary AddItem calls")
	clItems    = flag.String("items", "apple", "client: comma-separated items for AddItem, used in turn (missing, boom, slow fail)")
	clStreams  = flag.Int("streams", 0, "client: streams to open")
	clKinds    = flag.String("kinds", "watch,upload,chat", "client: comma-separated stream kinds, used in turn")
	clK        = flag.Int("k", 10, "client: messages per stream")
	clC        = flag.Int("c", 4, "client: calls at a time")
	clTimeout  = flag.Duration("timeout", time.Second, "client: deadline of each call")
	clDuration = flag.Duration("duration", 30*time.Second, "client: start no call after this")
	clStrict   = flag.Bool("strict", false, "client: exit 1 if any call failed")
)

// job is one call: a unary AddItem of item, or a stream of kind.
type job struct {
	item, kind string
}

type tally struct {
	mu                       sync.Mutex
	calls, ok, msgs, skipped int
	byCode                   map[string]int
}

func (t *tally) add(err error, msgs int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls++
	t.msgs += msgs
	if err == nil {
		t.ok++
		return
	}
	name := "CountMismatch"
	if err != errCountMismatch {
		name = status.Code(err).String()
	}
	t.byCode[name]++
}

var errCountMismatch = fmt.Errorf("count mismatch")

func runClient() int {
	creds := grpc.WithInsecure()
	if *clTLS {
		creds = grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}))
	}
	dialCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	conn, err := grpc.DialContext(dialCtx, *clTarget, creds, grpc.WithBlock())
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: cannot connect to %s: %v\n", *clTarget, err)
		return 1
	}
	defer conn.Close()
	cart := NewCartClient(conn)

	jobs := make(chan job)
	go func() {
		items, kinds := strings.Split(*clItems, ","), strings.Split(*clKinds, ",")
		for i := 0; i < *clN; i++ {
			jobs <- job{item: items[i%len(items)]}
		}
		for i := 0; i < *clStreams; i++ {
			jobs <- job{kind: kinds[i%len(kinds)]}
		}
		close(jobs)
	}()

	t := &tally{byCode: map[string]int{}}
	stop := time.Now().Add(*clDuration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *clC; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if time.Now().After(stop) {
					t.mu.Lock()
					t.skipped++
					t.mu.Unlock()
					continue
				}
				msgs, err := runJob(cart, j)
				t.add(err, msgs)
			}
		}()
	}
	wg.Wait()

	errs := t.calls - t.ok
	var codes []string
	for name, n := range t.byCode {
		codes = append(codes, name+"="+strconv.Itoa(n))
	}
	sort.Strings(codes)
	line := fmt.Sprintf("client: calls=%d ok=%d errors=%d", t.calls, t.ok, errs)
	if len(codes) > 0 {
		line += " " + strings.Join(codes, " ")
	}
	fmt.Printf("%s msgs=%d skipped=%d elapsed=%.3fs\n", line, t.msgs, t.skipped, time.Since(start).Seconds())
	if t.calls == 0 || (*clStrict && errs > 0) {
		return 1
	}
	return 0
}

// runJob makes one call with its own deadline; for streams it checks the message count.
//
//go:noinline
func runJob(cart CartClient, j job) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), *clTimeout)
	defer cancel()
	if j.kind == "" {
		_, err := cart.AddItem(ctx, wrapperspb.String(j.item))
		return 0, err
	}
	var got int
	var err error
	switch j.kind {
	case "watch":
		got, err = callWatch(ctx, cart, "client", *clK)
	case "upload":
		got, err = callUpload(ctx, cart, "client", *clK)
	case "chat":
		got, err = callChat(ctx, cart, "client", *clK)
	default:
		fmt.Fprintf(os.Stderr, "client: unknown stream kind %q\n", j.kind)
		os.Exit(2)
	}
	if err == nil && got != *clK {
		err = errCountMismatch
	}
	return got, err
}
