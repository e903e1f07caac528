package main

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// With DEMO_H2C=1 the demo speaks cleartext HTTP/2 with golang.org/x/net/http2, as services
// behind a mesh often do: the server wraps its handler in h2c.NewHandler (whose HTTP/2 server
// calls the handler itself, not through net/http's server), and the client uses x/net's
// http2.Transport with prior knowledge (no TLS, no upgrade).
func h2cEnabled() bool { return os.Getenv("DEMO_H2C") == "1" }

// setupH2C switches the server's handler and handle's transport to h2c.
func setupH2C(s *http.Server) {
	s.Handler = h2c.NewHandler(s.Handler, &http2.Server{})
	transport = &http2.Transport{
		AllowHTTP: true,
		DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) {
			return net.Dial(network, addr)
		},
	}
}
