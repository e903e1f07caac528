// Command gin_demo is the http_demo service written with gin, as a quadtrace
// target that routes requests through a third-party framework.
//
// It listens on 0.0.0.0:9932 (override with DEMO_ADDR) and serves:
//
//	GET /echo    answers {"errno":0,"errmsg":"ok"}
//	GET /handle  calls GET <downstream>/echo with http.Client.Do, serially on
//	             the handler's goroutine, reads and closes the body, then answers
//	             {"errno":0,"errmsg":"request okay"}
//	GET /users/:id answers {"errno":0,"errmsg":"user"}
//	GET /profile calls GET <downstream>/users/<random id>, then answers
//
// The downstream URL base defaults to http://0.0.0.0:9932 (this same server)
// and can be overridden with DEMO_DOWNSTREAM. Set DEMO_VERBOSE=1 to log every
// downstream response body; by default nothing is printed per request.
package main

import (
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
)

const (
	defaultAddr       = "0.0.0.0:9932"
	defaultDownstream = "http://0.0.0.0:9932"
)

var (
	downstream = defaultDownstream
	verbose    = false
)

// reply is a struct (not gin.H) so the field order matches http_demo byte for byte.
type reply struct {
	Errno  int    `json:"errno"`
	Errmsg string `json:"errmsg"`
}

//go:noinline
func echo(c *gin.Context) {
	c.JSON(http.StatusOK, reply{Errno: 0, Errmsg: "ok"})
}

//go:noinline
func handle(c *gin.Context) {
	client := http.Client{}
	req, err := http.NewRequest(http.MethodGet, downstream+"/echo", nil)
	if err != nil {
		c.JSON(http.StatusInternalServerError, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		c.JSON(http.StatusBadGateway, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.JSON(http.StatusBadGateway, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	if verbose {
		log.Printf("resp: %s", body)
	}
	c.JSON(http.StatusOK, reply{Errno: 0, Errmsg: "request okay"})
}

//go:noinline
func user(c *gin.Context) {
	c.JSON(http.StatusOK, reply{Errno: 0, Errmsg: "user"})
}

// profile calls GET <downstream>/users/<random id>, so the callee's route is a template too.
//
//go:noinline
func profile(c *gin.Context) {
	resp, err := http.Get(fmt.Sprintf("%s/users/%d", downstream, rand.Intn(1000)))
	if err != nil {
		c.JSON(http.StatusBadGateway, reply{Errno: 1, Errmsg: err.Error()})
		return
	}
	resp.Body.Close()
	c.JSON(http.StatusOK, reply{Errno: 0, Errmsg: "profile"})
}

func main() {
	addr := defaultAddr
	if v := os.Getenv("DEMO_ADDR"); v != "" {
		addr = v
	}
	if v := os.Getenv("DEMO_DOWNSTREAM"); v != "" {
		downstream = v
	}
	verbose = os.Getenv("DEMO_VERBOSE") == "1"

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/echo", echo)
	r.GET("/handle", handle)
	r.GET("/users/:id", user)
	r.GET("/profile", profile)

	server := &http.Server{Addr: addr, Handler: r}
	log.Printf("gin_demo listening on %s (downstream %s)", addr, downstream)
	log.Fatal(server.ListenAndServe())
}
