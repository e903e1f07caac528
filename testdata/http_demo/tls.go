package main

import (
	"crypto/tls"
	"crypto/x509"
	"log"
	"net/http"
	"os"

	"golang.org/x/net/http2"
)

// transport is what handle's http.Client uses: nil (http.DefaultTransport) unless DEMO_TLS_CA
// names a CA to trust, for talking to a TLS downstream.
var transport http.RoundTripper

// setupTLSClient trusts DEMO_TLS_CA. It clones http.DefaultTransport, which keeps
// ForceAttemptHTTP2: the client then speaks HTTP/2 over TLS, as Go clients do by default.
func setupTLSClient() {
	caFile := os.Getenv("DEMO_TLS_CA")
	if caFile == "" {
		return
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		log.Fatalf("%s: no certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool}
	// DEMO_TLS_XNET=1: HTTP/2 by golang.org/x/net/http2's transport, plugged into net/http's
	// as older programs (and Kubernetes' client) do: each call then passes through both.
	if os.Getenv("DEMO_TLS_XNET") == "1" {
		if err := http2.ConfigureTransport(t); err != nil {
			log.Fatal(err)
		}
	}
	transport = t
}

// serve runs the server over TLS when DEMO_TLS_CERT and DEMO_TLS_KEY are set (HTTP/2 is then
// negotiated by default), else over plain HTTP/1.
func serve(s *http.Server) error {
	cert, key := os.Getenv("DEMO_TLS_CERT"), os.Getenv("DEMO_TLS_KEY")
	if cert != "" && key != "" {
		return s.ListenAndServeTLS(cert, key)
	}
	return s.ListenAndServe()
}
