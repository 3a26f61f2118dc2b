package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// The tracking tests run on real redis-server processes. Every test checks
// that its goroutines are gone once its store is closed.

// leakCheck registers, as the test's last cleanup, a check that no
// goroutine started by the test outlives it.
func leakCheck(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// factories returns client factories for addr (RESP2; PoolSize 1 for the
// listener, as the adapters build them). dial, when set, replaces the dialer
// of the listener clients.
func factories(addr string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (data, listener redisstore.ClientFactory) {
	data = func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		return redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DialerRetries: 1, OnConnect: onConnect})
	}
	listener = func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		return redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DialerRetries: 1, PoolSize: 1,
			OnConnect: onConnect, Dialer: dial})
	}
	return data, listener
}

// newTracked starts a server (unless srv is given) and returns a Tracked
// store on it, closed at the end of the test.
func newTracked(t *testing.T, srv *redistest.Server, opts ...redisstore.Option) (*redisstore.Tracked, *redistest.Server) {
	t.Helper()
	leakCheck(t) // first: it runs after the server is stopped
	if srv == nil {
		srv = redistest.StartServer(t)
	}
	data, listener := factories(srv.Addr(), nil)
	s := redisstore.NewTracked(data, listener, append([]redisstore.Option{redisstore.WithEndpoint(srv.Addr())}, opts...)...)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, srv
}

// newPeer returns a plain store on srv: another client of the same data.
func newPeer(t *testing.T, srv *redistest.Server) *redisstore.Store {
	t.Helper()
	p := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2}))
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// next returns the next event, failing t after a few seconds.
func next(t *testing.T, ch <-chan domain.Invalidation) domain.Invalidation {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("invalidation channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no invalidation within 5s")
	}
	panic("unreachable")
}

// waitClosed drains ch until it is closed, failing t after a few seconds,
// and returns what it drained.
func waitClosed[T any](t *testing.T, ch <-chan T) []T {
	t.Helper()
	var got []T
	deadline := time.After(5 * time.Second)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, v)
		case <-deadline:
			t.Fatalf("channel not closed within 5s (drained %v)", got)
		}
	}
}

// eventually polls cond until it holds, failing t after a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clients returns CLIENT LIST as one map of fields per client.
func clients(t *testing.T, srv *redistest.Server) []map[string]string {
	t.Helper()
	out, err := srv.Do("CLIENT", "LIST")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				fields[k] = v
			}
		}
		list = append(list, fields)
	}
	return list
}

func TestTrackedInvalidations(t *testing.T) {
	ctx := context.Background()
	s, srv := newTracked(t, nil)
	peer := newPeer(t, srv)

	// Before any session the store is a plain store.
	if id := s.TrackingID(); id != 0 {
		t.Fatalf("TrackingID before Invalidations = %d", id)
	}
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}

	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := s.TrackingID()
	if id == 0 {
		t.Fatal("TrackingID = 0 with a live session")
	}

	// The ID read in OnConnect is that of the subscribed connection, and
	// the data connections redirect to it.
	var listener map[string]string
	var redirecting int
	for _, c := range clients(t, srv) {
		if c["id"] == strconv.FormatInt(id, 10) {
			listener = c
		}
		if c["redir"] == strconv.FormatInt(id, 10) {
			redirecting++
			if !strings.Contains(c["flags"], "t") {
				t.Errorf("data connection %s redirects but its flags %q lack t (tracking)", c["id"], c["flags"])
			}
		}
	}
	if listener == nil {
		t.Fatalf("no client with id %d", id)
	}
	if listener["sub"] != "1" || !strings.Contains(listener["flags"], "P") {
		t.Fatalf("client %d is not the subscribed connection: %v", id, listener)
	}
	if redirecting == 0 {
		t.Fatal("no data connection redirects to the invalidation connection")
	}

	// A key read, then changed by another client.
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := peer.Set(ctx, "k", []byte("w"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"k"}) || ev.All {
		t.Fatalf("event = %+v, want keys [k]", ev)
	}

	// A missing key read is tracked too.
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatal(err)
	}
	if err := peer.Set(ctx, "missing", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"missing"}) {
		t.Fatalf("event = %+v, want keys [missing]", ev)
	}

	// Own writes are not reported (NOLOOP).
	if _, err := s.Get(ctx, "own"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "own", []byte("mine"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := peer.Set(ctx, "k", []byte("again"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"k"}) {
		t.Fatalf("event = %+v, want keys [k] (the own write of \"own\" must not be reported)", ev)
	}

	// FLUSHALL from another client: one All event.
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !ev.All || ev.Reason != domain.ReasonFlush {
		t.Fatalf("event after FLUSHALL = %+v, want All flush", ev)
	}
	// The session survives the flush.
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatal(err)
	}
	if err := peer.Set(ctx, "k", []byte("after flush"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"k"}) {
		t.Fatalf("event = %+v, want keys [k]", ev)
	}
	if s.TrackingID() != id {
		t.Fatal("the flush changed the session")
	}
}

func TestTrackedSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	s, srv := newTracked(t, nil)

	// Cancelling ctx closes the channel and ends the session.
	sub, cancel := context.WithCancel(ctx)
	ch, err := s.Invalidations(sub)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitClosed(t, ch)
	eventually(t, "session ended", func() bool { return s.TrackingID() == 0 })

	// A new call replaces the live session.
	ch1, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id1 := s.TrackingID()
	ch2, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ch1)
	if id2 := s.TrackingID(); id2 == 0 || id2 == id1 {
		t.Fatalf("TrackingID after replacement = %d (was %d)", id2, id1)
	}
	// The replaced listener is gone from the server.
	eventually(t, "old listener closed", func() bool {
		for _, c := range clients(t, srv) {
			if c["id"] == strconv.FormatInt(id1, 10) {
				return false
			}
		}
		return true
	})

	// Close closes the channel; calls after Close fail with ErrClosed.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ch2)
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := s.Invalidations(ctx); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("Invalidations after Close = %v", err)
	}
	if _, err := s.Subscribe(ctx, "c"); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("Subscribe after Close = %v", err)
	}
	if err := s.Publish(ctx, "c", nil); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("Publish after Close = %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
}

func TestTrackedListenerKilled(t *testing.T) {
	ctx := context.Background()
	s, srv := newTracked(t, nil)
	peer := newPeer(t, srv)
	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := s.TrackingID()
	if _, err := srv.Do("CLIENT", "KILL", "ID", strconv.FormatInt(id, 10)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ch)
	if got := s.TrackingID(); got != 0 {
		t.Fatalf("TrackingID after loss = %d", got)
	}
	// The store keeps working, on a plain generation.
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	// go-redis did not reconnect the listener behind our back.
	for _, c := range clients(t, srv) {
		if c["sub"] == "1" {
			t.Fatalf("a subscribed connection is still there: %v", c)
		}
	}

	// Subscribing again gives a new session that works.
	ch, err = s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.TrackingID(); got == 0 || got == id {
		t.Fatalf("new TrackingID = %d (was %d)", got, id)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := peer.Set(ctx, "k", []byte("w"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"k"}) {
		t.Fatalf("event = %+v", ev)
	}
}

func TestTrackedDataConnectionKilled(t *testing.T) {
	ctx := context.Background()
	s, srv := newTracked(t, nil, redisstore.WithHealthCheck(50*time.Millisecond, time.Second))
	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(s.TrackingID(), 10)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatal(err)
	}
	// Kill the (idle) data connection: Redis forgets what it tracked. The
	// session notices without any command being sent.
	killed := 0
	for _, c := range clients(t, srv) {
		if c["redir"] == id {
			if _, err := srv.Do("CLIENT", "KILL", "ID", c["id"]); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("%d data connections, want 1", killed)
	}
	if ev := next(t, ch); !ev.All || ev.Reason != domain.ReasonReconnect {
		t.Fatalf("event = %+v, want All reconnect", ev)
	}
	// The next command replaces the dead connection, without another
	// event for it; the session goes on and the new connection is tracked.
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatal(err)
	}
	if got := strconv.FormatInt(s.TrackingID(), 10); got != id {
		t.Fatalf("TrackingID changed to %s", got)
	}
	if _, err := srv.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"k"}) {
		t.Fatalf("event = %+v, want keys [k] and nothing before", ev)
	}

}

func TestTrackedOverflow(t *testing.T) {
	ctx := context.Background()
	core, logs := observer.New(zap.WarnLevel)
	s, srv := newTracked(t, nil, redisstore.WithInvalidationBuffer(4), redisstore.WithLogger(zap.New(core)))
	peer := newPeer(t, srv)
	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, err := s.Get(ctx, fmt.Sprint("k", i)); !errors.Is(err, domain.ErrNotFound) {
			t.Fatal(err)
		}
	}
	for i := range n {
		if err := peer.Set(ctx, fmt.Sprint("k", i), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing reads until the buffer overflowed (the adapter says so):
	// the pending events were replaced by one All event.
	eventually(t, "overflow", func() bool {
		return logs.FilterMessageSnippet("buffer full").Len() > 0
	})
	if ev := next(t, ch); !ev.All || ev.Reason != domain.ReasonOverflow {
		t.Fatalf("first event = %+v, want All overflow", ev)
	}
	// The session goes on.
	if s.TrackingID() == 0 {
		t.Fatal("overflow ended the session")
	}
}

func TestTrackedBroadcast(t *testing.T) {
	ctx := context.Background()
	s, srv := newTracked(t, nil)
	peer := newPeer(t, srv)

	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, err := s.Subscribe(sub, "chan")
	if err != nil {
		t.Fatal(err)
	}
	// Own messages and other clients' messages arrive, in order.
	if err := s.Publish(ctx, "chan", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := peer.Client().Publish(ctx, "chan", "two").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, "other", []byte("not for us")); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, "chan", nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two", ""} {
		select {
		case got := <-msgs:
			if string(got) != want {
				t.Fatalf("message = %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no message %q", want)
		}
	}

	// A session does not disturb the subscription, and vice versa.
	inv, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, "chan", []byte("three")); err != nil {
		t.Fatal(err)
	}
	if got := <-msgs; string(got) != "three" {
		t.Fatalf("message = %q", got)
	}

	// Killing the subscription's connection closes its channel only.
	for _, c := range clients(t, srv) {
		if c["sub"] == "1" && c["id"] != strconv.FormatInt(s.TrackingID(), 10) {
			if _, err := srv.Do("CLIENT", "KILL", "ID", c["id"]); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitClosed(t, msgs)
	select {
	case _, ok := <-inv:
		if !ok {
			t.Fatal("the invalidation channel closed with the subscription")
		}
	default:
	}

	// ctx ends a subscription.
	sub2, cancel2 := context.WithCancel(ctx)
	msgs2, err := s.Subscribe(sub2, "chan")
	if err != nil {
		t.Fatal(err)
	}
	cancel2()
	waitClosed(t, msgs2)

	// Close ends the others.
	msgs3, err := s.Subscribe(ctx, "chan")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, msgs3)
	waitClosed(t, inv)

	if _, err := s.Subscribe(ctx, ""); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("Subscribe(\"\") = %v", err)
	}
}

func TestTrackedServerDown(t *testing.T) {
	ctx := context.Background()
	s, srv := newTracked(t, nil)
	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	waitClosed(t, ch)
	if _, err := s.Invalidations(ctx); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Invalidations with the server down = %v", err)
	}
	if _, err := s.Subscribe(ctx, "c"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Subscribe with the server down = %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Get with the server down = %v", err)
	}
	srv.Restart(t)
	ch, err = s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := srv.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); !slices.Equal(ev.Keys, []string{"k"}) {
		t.Fatalf("event = %+v", ev)
	}
}

// TestTrackedHealthCheck freezes the listener's connection behind a proxy
// (nothing passes, nothing closes): only the health PING can notice.
func TestTrackedHealthCheck(t *testing.T) {
	ctx := context.Background()
	leakCheck(t)
	srv := redistest.StartServer(t)
	px := startProxy(t, srv.Addr())
	data, listener := factories(srv.Addr(), px.dial)
	s := redisstore.NewTracked(data, listener, redisstore.WithHealthCheck(50*time.Millisecond, 200*time.Millisecond))
	t.Cleanup(func() { _ = s.Close() })
	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Healthy: quiet for several intervals, the PINGs are answered.
	select {
	case ev, ok := <-ch:
		t.Fatalf("event %+v (open %v) on a quiet, healthy session", ev, ok)
	case <-time.After(300 * time.Millisecond):
	}
	start := time.Now()
	px.freeze()
	waitClosed(t, ch)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("loss noticed after %v", d)
	}
}

// TestTrackedRedirectGone: a data connection opened while the invalidation
// connection is gone but not yet noticed (frozen behind a proxy) fails with
// ErrUnavailable and ends the session at once.
func TestTrackedRedirectGone(t *testing.T) {
	ctx := context.Background()
	leakCheck(t)
	srv := redistest.StartServer(t)
	px := startProxy(t, srv.Addr())
	data, listener := factories(srv.Addr(), px.dial)
	s := redisstore.NewTracked(data, listener, redisstore.WithHealthCheck(time.Minute, time.Minute))
	t.Cleanup(func() { _ = s.Close() })
	ch, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(s.TrackingID(), 10)
	px.freeze()
	if _, err := srv.Do("CLIENT", "KILL", "ID", id); err != nil {
		t.Fatal(err)
	}
	// A second concurrent command needs a new data connection.
	c := s.Client().(*redis.Client).Conn() // holds the pooled connection
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "k")
	if !errors.Is(err, domain.ErrUnavailable) && !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Get on a new connection = %v", err)
	}
	waitClosed(t, ch)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Get after the loss = %v", err)
	}
}

func TestTrackedProtocol(t *testing.T) {
	ctx := context.Background()
	leakCheck(t)
	srv := redistest.StartServer(t)
	resp3 := func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		return redis.NewClient(&redis.Options{Addr: srv.Addr(), OnConnect: onConnect}) // RESP3 by default
	}
	data, listener := factories(srv.Addr(), nil)
	for name, f := range map[string][2]redisstore.ClientFactory{
		"data":     {resp3, listener},
		"listener": {data, resp3},
	} {
		t.Run(name, func(t *testing.T) {
			s := redisstore.NewTracked(f[0], f[1])
			defer s.Close()
			if _, err := s.Invalidations(ctx); !errors.Is(err, domain.ErrInvalidArgument) {
				t.Fatalf("Invalidations with a RESP3 %s client = %v", name, err)
			}
			if s.TrackingID() != 0 {
				t.Fatal("a session started")
			}
		})
	}
}

// proxy forwards TCP connections to a server until frozen; frozen, it
// forwards nothing and closes nothing, as a silent network partition.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", p.ln.Addr().String())
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, down)
		go p.pipe(down, up)
	}
}

// pipe copies src to dst until src fails; unless frozen, it then closes
// dst.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		frozen := p.frozen
		p.mu.Unlock()
		if n > 0 && !frozen {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !frozen {
				_ = dst.Close()
			}
			return
		}
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
