//go:build go1.21

package main

import "context"

// detach keeps parent's values (and its identity as the parent) but not its cancellation:
// the poolctx handler returns, and net/http cancels r.Context(), before a worker runs the job.
// context.WithoutCancel's withoutCancelCtx embeds the parent Context as its first field,
// which is what quadtrace's recorder follows to find a context's ancestors.
func detach(parent context.Context) context.Context {
	return context.WithoutCancel(parent)
}
