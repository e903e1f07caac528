//go:build !go1.22

package main

import "net/http"

// registerRoutes before Go 1.22: a subtree pattern, which ServeMux does not expose to the
// handler, so quadtrace names these requests by their raw path.
func registerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/users/", user)
	mux.HandleFunc("/profile", profile)
}
