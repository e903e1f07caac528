package main

import (
	"fmt"
	"math/rand"
	"net/http"
)

// Routes with a parameter, so that quadtrace can show that /users/1 and /users/2 are one
// route. How they are registered depends on the Go version (routes_go122.go and
// routes_go121.go): ServeMux has method and wildcard patterns only since Go 1.22.

//go:noinline
func user(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, reply{Errno: 0, Errmsg: "user"})
}

// profile calls GET <downstream>/users/<random id>, so the callee's route is a template too.
//
//go:noinline
func profile(w http.ResponseWriter, r *http.Request) {
	client := http.Client{Transport: transport}
	resp, err := client.Get(fmt.Sprintf("%s/users/%d", downstream, rand.Intn(1000)))
	if err != nil {
		writeJSON(w, http.StatusBadGateway, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	resp.Body.Close()
	writeJSON(w, http.StatusOK, reply{Errno: 0, Errmsg: "profile"})
}
