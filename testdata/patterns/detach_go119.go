//go:build !go1.21

package main

import (
	"context"
	"time"
)

// detachedCtx is context.WithoutCancel for Go before 1.21: parent's values, none of its
// cancellation or deadline. The poolctx handler returns, and net/http cancels r.Context(),
// before a worker runs the job, so the job cannot carry r.Context() itself.
//
// The embedded parent Context MUST stay the FIRST field: quadtrace's recorder finds a
// context's ancestors by reading the interface in a context's first field (as in cancelCtx,
// timerCtx, valueCtx and withoutCancelCtx), so this layout lets it link the worker's call
// back to the request's context.
type detachedCtx struct {
	context.Context
}

func (detachedCtx) Deadline() (deadline time.Time, ok bool) { return time.Time{}, false }
func (detachedCtx) Done() <-chan struct{}                   { return nil }
func (detachedCtx) Err() error                              { return nil }

// Value comes from the embedded parent.

func detach(parent context.Context) context.Context {
	return &detachedCtx{Context: parent}
}
