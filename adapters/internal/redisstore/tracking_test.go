package redisstore_test

import (
	"context"
	"errors"
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

// factory returns a client factory for addr, as the adapters build them
// (RESP2; a dedicated client has its pool size and no retries). dial, when
// set, replaces the dialer of the dedicated clients.
func factory(addr string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) redisstore.ClientFactory {
	return func(onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
		o := &redis.Options{Addr: addr, Protocol: 2, DialerRetries: 1, OnConnect: onConnect, ContextTimeoutEnabled: true}
		if poolSize > 0 {
			o.PoolSize, o.MaxRetries, o.PipelinePoolSize, o.Dialer = poolSize, -1, -1, dial
		}
		return redis.NewClient(o)
	}
}

// newTracked starts a server (unless srv is given) and returns a tracking
// store on it, closed at the end of the test.
func newTracked(t *testing.T, srv *redistest.Server, opts ...redisstore.Option) (*redisstore.Store, *redistest.Server) {
	t.Helper()
	leakCheck(t) // first: it runs after the server is stopped
	if srv == nil {
		srv = redistest.StartServer(t)
	}
	s := redisstore.NewTracked(factory(srv.Addr(), nil), append([]redisstore.Option{redisstore.WithEndpoint(srv.Addr())}, opts...)...)
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

// recorder is an InvalidationSink that records what it is told.
type recorder struct {
	mu    sync.Mutex
	keys  []string
	drops []drop
}

type drop struct {
	scope  *domain.Lease
	reason string
}

func (r *recorder) Invalidate(keys []string) {
	r.mu.Lock()
	r.keys = append(r.keys, keys...)
	r.mu.Unlock()
}

func (r *recorder) Drop(scope *domain.Lease, reason string) {
	r.mu.Lock()
	r.drops = append(r.drops, drop{scope, reason})
	r.mu.Unlock()
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.keys {
		if k == key {
			n++
		}
	}
	return n
}

// dropped reports whether a Drop covering l, for reason, was received.
func (r *recorder) dropped(l *domain.Lease, reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.drops {
		if d.scope.Covers(l) && d.reason == reason {
			return true
		}
	}
	return false
}

// track registers a new recorder with s and fails on an error.
func track(t *testing.T, s *redisstore.Store) (*recorder, func()) {
	t.Helper()
	r := &recorder{}
	untrack, err := s.Track(context.Background(), r)
	if err != nil {
		t.Fatalf("Track: %v", err)
	}
	t.Cleanup(untrack)
	return r, untrack
}

func fetch(t *testing.T, s *redisstore.Store, key string) domain.Fetched {
	t.Helper()
	f, err := s.Fetch(context.Background(), key)
	if err != nil {
		t.Fatalf("Fetch %q: %v", key, err)
	}
	return f
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
		time.Sleep(2 * time.Millisecond)
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

// trackingClients counts the listener (the connection whose ID is id) and
// the tracked connections (those that redirect to it).
func trackingClients(t *testing.T, srv *redistest.Server, id int64) (listeners, tracked int) {
	t.Helper()
	want := strconv.FormatInt(id, 10)
	for _, c := range clients(t, srv) {
		switch {
		case c["id"] == want:
			listeners++
		case c["redir"] == want:
			tracked++
		}
	}
	return listeners, tracked
}

func info(t *testing.T, srv *redistest.Server, field string) string {
	t.Helper()
	out, err := srv.Do("INFO", "stats")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO has no %s", field)
	return ""
}

func TestTrackSessionSharedBySinks(t *testing.T) {
	s, srv := newTracked(t, nil, redisstore.WithTrackingPool(2))
	peer := newPeer(t, srv)
	ctx := context.Background()
	r1, untrack1 := track(t, s)
	id := s.TrackingID()
	if id == 0 || !s.Tracking() {
		t.Fatal("no session after Track")
	}
	// Ten more sinks (ten caches of the process) share the session.
	sinks := []*recorder{r1}
	untracks := []func(){untrack1}
	for range 10 {
		r, u := track(t, s)
		sinks, untracks = append(sinks, r), append(untracks, u)
	}
	if s.TrackingID() != id {
		t.Fatal("a new sink started a new session")
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, err := s.Fetch(ctx, "k"+strconv.Itoa(i%8)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if l, tr := trackingClients(t, srv, id); l != 1 || tr < 1 || tr > 2 {
		t.Fatalf("%d listeners and %d tracked connections for 11 sinks, want 1 and at most 2", l, tr)
	}
	if err := peer.Set(ctx, "k3", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range sinks {
		// Once per tracked connection that fetched k3.
		eventually(t, "every sink told", func() bool { return r.count("k3") >= 1 })
	}
	// Untracking all but one leaves the session alone.
	for _, u := range untracks[1:] {
		u()
	}
	if s.TrackingID() != id {
		t.Fatal("untracking other sinks ended the session")
	}
	// Untracking the last ends it, and its connections.
	untracks[0]()
	if s.Tracking() || s.TrackingID() != 0 {
		t.Fatal("session live without sinks")
	}
	eventually(t, "connections closed", func() bool {
		l, tr := trackingClients(t, srv, id)
		return l == 0 && tr == 0
	})
	// And a new sink starts a new one.
	track(t, s)
	if s.TrackingID() == 0 || s.TrackingID() == id {
		t.Fatalf("TrackingID %d after a new Track (old %d)", s.TrackingID(), id)
	}
}

func TestTrackOptIn(t *testing.T) {
	s, srv := newTracked(t, nil)
	ctx := context.Background()
	track(t, s)
	for i := range 100 {
		if err := s.Set(ctx, "plain"+strconv.Itoa(i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "plain"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		fetch(t, s, "cached"+strconv.Itoa(i%5))
		fetch(t, s, "cached"+strconv.Itoa(i%5))
	}
	if got := info(t, srv, "tracking_total_keys"); got != "5" {
		t.Fatalf("tracking_total_keys = %s, want 5 (the fetched keys only)", got)
	}
}

func TestTrackListenerKilled(t *testing.T) {
	s, srv := newTracked(t, nil)
	peer := newPeer(t, srv)
	ctx := context.Background()
	r, _ := track(t, s)
	f := fetch(t, s, "k")
	old := s.TrackingID()
	if _, err := srv.Do("CLIENT", "KILL", "ID", strconv.FormatInt(old, 10)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "lease revoked", func() bool { return !f.Lease.Valid() })
	if !r.dropped(f.Lease, domain.ReasonConnLost) {
		t.Fatal("the sink was not told to drop what the lost session covered")
	}
	eventually(t, "new session", func() bool { id := s.TrackingID(); return id != 0 && id != old })
	fetch(t, s, "k")
	if err := peer.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tracked again", func() bool { return r.count("k") == 1 })
}

func TestTrackTrackedConnectionKilled(t *testing.T) {
	s, srv := newTracked(t, nil, redisstore.WithTrackingPool(1))
	peer := newPeer(t, srv)
	ctx := context.Background()
	r, _ := track(t, s)
	id := s.TrackingID()
	f := fetch(t, s, "k")
	for _, c := range clients(t, srv) {
		if c["redir"] == strconv.FormatInt(id, 10) {
			if _, err := srv.Do("CLIENT", "KILL", "ID", c["id"]); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The next fetch finds the connection closed before using it: only its
	// lease is revoked, the session goes on.
	f2 := fetch(t, s, "k")
	if f.Lease.Valid() || !r.dropped(f.Lease, domain.ReasonConnLost) {
		t.Fatal("the killed connection's lease is still valid, or its values were not dropped")
	}
	if !f2.Lease.Valid() || f2.Lease == f.Lease {
		t.Fatal("the new fetch has no fresh lease")
	}
	if s.TrackingID() != id {
		t.Fatal("a tracked connection's loss ended the session")
	}
	if err := peer.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tracked on the new connection", func() bool { return r.count("k") == 1 })
}

// TestTrackConnectionClosedByClient: a tracked connection that go-redis
// closes on its side (as a Sentinel client's switch to a new master does
// to the old master's connections) has its values dropped as it closes,
// not at the next check (1 s here).
func TestTrackConnectionClosedByClient(t *testing.T) {
	srv := redistest.StartServer(t)
	leakCheck(t)
	var mu sync.Mutex
	var tracked []*redis.Client
	base := factory(srv.Addr(), nil)
	s := redisstore.NewTracked(func(onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
		c := base(onConnect, poolSize)
		if poolSize == 1 && onConnect != nil {
			mu.Lock()
			tracked = append(tracked, c)
			mu.Unlock()
		}
		return c
	}, redisstore.WithTrackingPool(1))
	t.Cleanup(func() { _ = s.Close() })
	r, _ := track(t, s)
	f := fetch(t, s, "k")
	mu.Lock()
	c := tracked[len(tracked)-1]
	mu.Unlock()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Lease.Valid() || !r.dropped(f.Lease, domain.ReasonConnLost) {
		t.Fatal("the values of a tracked connection closed on the client side were not dropped as it closed")
	}
	if f2 := fetch(t, s, "k"); !f2.Lease.Valid() {
		t.Fatal("no fresh tracked connection after the close")
	}
}

// TestTrackIdleConnectionKilled: a tracked connection killed while idle is
// noticed by the periodic check, without any fetch.
func TestTrackIdleConnectionKilled(t *testing.T) {
	s, srv := newTracked(t, nil, redisstore.WithTrackingPool(1), redisstore.WithHealthCheck(20*time.Millisecond, time.Second))
	r, _ := track(t, s)
	id := s.TrackingID()
	f := fetch(t, s, "k")
	for _, c := range clients(t, srv) {
		if c["redir"] == strconv.FormatInt(id, 10) {
			if _, err := srv.Do("CLIENT", "KILL", "ID", c["id"]); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually(t, "the idle connection's loss noticed", func() bool { return r.dropped(f.Lease, domain.ReasonConnLost) })
}

func TestTrackFlushAll(t *testing.T) {
	s, srv := newTracked(t, nil)
	r, _ := track(t, s)
	f := fetch(t, s, "k")
	if _, err := srv.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "flush reported", func() bool { return r.dropped(f.Lease, domain.ReasonFlushAll) })
	if !f.Lease.Valid() || !s.Tracking() {
		t.Fatal("a flush is not a loss: the lease and the session stay")
	}
}

func TestTrackServerDown(t *testing.T) {
	s, srv := newTracked(t, nil)
	peer := newPeer(t, srv)
	ctx := context.Background()
	srv.Kill()
	r := &recorder{}
	untrack, err := s.Track(ctx, r)
	if !errors.Is(err, domain.ErrUnavailable) || untrack == nil {
		t.Fatalf("Track with the server down = %v", err)
	}
	defer untrack()
	if _, err := s.Fetch(ctx, "k"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Fetch with the server down = %v", err)
	}
	if _, err := s.Subscribe(ctx, "c"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Subscribe with the server down = %v", err)
	}
	srv.Restart(t)
	eventually(t, "tracking back", s.Tracking)
	fetch(t, s, "k")
	if err := peer.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reported", func() bool { return r.count("k") == 1 })
}

// TestTrackBackoffGrows kills every new session at once: the attempts must
// slow down (50 ms, 100 ms, ... up to 2 s apart), not hammer the server.
func TestTrackBackoffGrows(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	s, srv := newTracked(t, nil, redisstore.WithLogger(zap.New(core)))
	track(t, s)
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if id := s.TrackingID(); id != 0 {
			_, _ = srv.Do("CLIENT", "KILL", "ID", strconv.FormatInt(id, 10))
		}
		time.Sleep(5 * time.Millisecond) // the killer's pace
	}
	n := logs.FilterMessage("client tracking session started").Len()
	// 50+100+200+400+800 ms of waits fit in 2 s: about 6 sessions.
	if n < 3 || n > 9 {
		t.Fatalf("%d sessions in 2 s while each died at once, want 3 to 9", n)
	}
}

// TestTrackHealthCheck freezes the connections behind a proxy (nothing
// passes, nothing closes): only the listener's health PING can notice.
func TestTrackHealthCheck(t *testing.T) {
	leakCheck(t)
	srv := redistest.StartServer(t)
	px := startProxy(t, srv.Addr())
	s := redisstore.NewTracked(factory(srv.Addr(), px.dial), redisstore.WithHealthCheck(50*time.Millisecond, 200*time.Millisecond))
	t.Cleanup(func() { _ = s.Close() })
	r, _ := track(t, s)
	f := fetch(t, s, "k")
	time.Sleep(300 * time.Millisecond) // quiet for several intervals: the PINGs are answered
	if !f.Lease.Valid() {
		t.Fatal("a quiet, healthy session was dropped")
	}
	start := time.Now()
	px.freeze()
	eventually(t, "loss noticed", func() bool { return r.dropped(f.Lease, domain.ReasonConnLost) })
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("loss noticed after %v", d)
	}
}

func TestTrackProtocol(t *testing.T) {
	leakCheck(t)
	srv := redistest.StartServer(t)
	resp3 := func(onConnect func(context.Context, *redis.Conn) error, _ int) *redis.Client {
		return redis.NewClient(&redis.Options{Addr: srv.Addr(), OnConnect: onConnect}) // RESP3 by default
	}
	s := redisstore.NewTracked(resp3)
	defer s.Close()
	if _, err := s.Track(context.Background(), &recorder{}); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("Track with RESP3 clients = %v", err)
	}
	if s.TrackingID() != 0 {
		t.Fatal("a session started")
	}
	plain := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}))
	defer plain.Close()
	if _, err := plain.Track(context.Background(), &recorder{}); !errors.Is(err, domain.ErrNotSupported) {
		t.Fatalf("Track on a store built by New = %v", err)
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

	// Tracking does not disturb the subscription, and vice versa.
	r, _ := track(t, s)
	f := fetch(t, s, "k")
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
	if !f.Lease.Valid() || slices.ContainsFunc(r.drops, func(d drop) bool { return d.scope.Covers(f.Lease) }) {
		t.Fatal("tracking was dropped with the subscription")
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
	if f.Lease.Valid() {
		t.Fatal("a lease outlived Close")
	}

	if _, err := s.Subscribe(ctx, ""); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("Subscribe(\"\") = %v", err)
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
