//go:build go1.22

// Built in GOPATH mode there is no go.mod to say which Go this is written for, so Go keeps
// the pre-1.22 ServeMux; this asks for the one with patterns.
//go:debug httpmuxgo121=0

package main

import "net/http"

// registerRoutes uses Go 1.22's patterns: the route of /users/7 is "GET /users/{id}".
func registerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /users/{id}", user)
	mux.HandleFunc("/profile", profile)
}
