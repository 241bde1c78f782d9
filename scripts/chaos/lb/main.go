// Command lb is the fault campaign's load balancer (scripts/chaos.sh): it
// accepts TCP connections on -addr and hands each to the next of the
// -backends in turn, trying the following ones when a backend refuses the
// connection or does not answer within -dial-timeout — as haproxy's
// redispatch does — so a replica that is down costs connection attempts,
// not requests. It does not look inside the connections: a request in
// flight on a replica that dies is lost, as behind any layer-4 balancer.
//
//	lb -addr 127.0.0.1:18080 -backends 127.0.0.1:18081,127.0.0.1:18082
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	backends := flag.String("backends", "", "backend addresses, comma-separated")
	dialTimeout := flag.Duration("dial-timeout", time.Second, "how long to wait for one backend to accept")
	flag.Parse()
	b := &balancer{dialTimeout: *dialTimeout}
	for _, a := range strings.Split(*backends, ",") {
		if a = strings.TrimSpace(a); a != "" {
			b.backends = append(b.backends, a)
		}
	}
	if len(b.backends) == 0 {
		fmt.Fprintln(os.Stderr, "lb: -backends is required")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lb:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); ln.Close() }()
	log.Printf("lb listening on %s, backends %s", ln.Addr(), strings.Join(b.backends, ","))
	b.serve(ln)
}

type balancer struct {
	backends    []string
	dialTimeout time.Duration
	next        atomic.Uint64
}

// serve proxies every accepted connection until the listener closes.
func (b *balancer) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go b.proxy(c)
	}
}

// dial connects to the next backend that accepts, starting with the next in
// turn; it fails only when none does.
func (b *balancer) dial() (net.Conn, error) {
	start := b.next.Add(1)
	var last error
	for i := range b.backends {
		a := b.backends[(start+uint64(i))%uint64(len(b.backends))]
		c, err := net.DialTimeout("tcp", a, b.dialTimeout)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

func (b *balancer) proxy(client net.Conn) {
	defer client.Close()
	backend, err := b.dial()
	if err != nil {
		log.Printf("lb: no backend accepts: %v", err)
		return
	}
	defer backend.Close()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		// The other way may still have an answer to carry: half-close.
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	wg.Add(2)
	go pipe(backend, client)
	go pipe(client, backend)
	wg.Wait()
}
