package sentinel

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/tests/redistest"
)

// newTestWatcher returns a watcher of master "mymaster" behind the given
// sentinels, whose adoptions count into failovers; it is not started.
func newTestWatcher(t *testing.T, sentinels []string, conn connection.Options) (*watcher, *atomic.Int64) {
	t.Helper()
	fo, err := Config{MasterName: "mymaster", SentinelAddrs: sentinels, Connection: conn}.options()
	if err != nil {
		t.Fatal(err)
	}
	d := newDeployment(fo, zap.NewNop())
	var failovers atomic.Int64
	d.watch.setFailover(func() { failovers.Add(1) })
	t.Cleanup(d.watch.close)
	return d.watch, &failovers
}

func TestParseEvents(t *testing.T) {
	r, ok := parseInstance("slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000")
	if !ok || r.kind != "slave" || r.addr != "127.0.0.1:7001" || r.master != "mymaster" || r.masterAddr != "127.0.0.1:7000" {
		t.Errorf("replica details: %+v, %v", r, ok)
	}
	r, ok = parseInstance("master mymaster ::1 7000")
	if !ok || r.kind != "master" || r.name != "mymaster" || r.addr != "[::1]:7000" || r.masterAddr != r.addr {
		t.Errorf("master details: %+v, %v", r, ok)
	}
	for _, bad := range []string{"", "slave a b", "slave 127.0.0.1:7001 127.0.0.1 7001 # mymaster 127.0.0.1 7000", "slave x 127.0.0.1 7001 @ m"} {
		if r, ok := parseInstance(bad); ok {
			t.Errorf("parseInstance(%q) = %+v", bad, r)
		}
	}
	master, old, next, ok := parseSwitch("mymaster 127.0.0.1 7000 ::1 7001")
	if !ok || master != "mymaster" || old != "127.0.0.1:7000" || next != "[::1]:7001" {
		t.Errorf("parseSwitch = %q %q %q %v", master, old, next, ok)
	}
	if _, _, _, ok := parseSwitch("mymaster 127.0.0.1 7000"); ok {
		t.Error("parseSwitch accepted a short payload")
	}
}

// TestRoute drives the route with the sentinels' events, as they arrive on
// the subscriptions.
func TestRoute(t *testing.T) {
	const (
		o = "127.0.0.1:7000" // the first master
		x = "127.0.0.1:7001" // the replica promoted
		y = "127.0.0.1:7002" // a third node
	)
	sentinels := []string{"127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"}
	w, failovers := newTestWatcher(t, sentinels, connection.Options{})
	ctx := context.Background()
	want := func(addr, to string, n int64) {
		t.Helper()
		if got := w.route(addr); got != to {
			t.Errorf("route(%s) = %s, want %s", addr, got, to)
		}
		if got := failovers.Load(); got != n {
			t.Errorf("%d failovers, want %d", got, n)
		}
	}

	want(o, o, 0)
	want(sentinels[0], sentinels[0], 0)
	w.event(ctx, 0, evSwitchMaster, "othermaster 127.0.0.1 7000 127.0.0.1 7001")
	want(o, o, 0)

	// The leader's +promoted-slave: the old master is dialled as the new.
	w.event(ctx, 0, evPromoted, "slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000")
	want(o, x, 1)
	want(x, x, 1)
	want(y, y, 1) // a master the watch does not know of, or a sentinel
	// Every sentinel's +switch-master: no news, and once all have
	// announced it none answers the old master any more.
	w.event(ctx, 0, evSwitchMaster, "mymaster 127.0.0.1 7000 127.0.0.1 7001")
	w.event(ctx, 2, evSwitchMaster, "mymaster 127.0.0.1 7000 127.0.0.1 7001")
	w.event(ctx, 2, evSwitchMaster, "mymaster 127.0.0.1 7000 127.0.0.1 7001")
	want(o, x, 1)
	w.event(ctx, 1, evSwitchMaster, "mymaster 127.0.0.1 7000 127.0.0.1 7001")
	want(o, o, 1)

	// A failover back: the master replaced is dialled as the old one.
	w.event(ctx, 1, evSwitchMaster, "mymaster 127.0.0.1 7001 127.0.0.1 7000")
	want(x, o, 2)
	want(o, o, 2)
	// ... and the next failover: both former masters go to the newest.
	w.event(ctx, 1, evSwitchMaster, "mymaster 127.0.0.1 7000 127.0.0.1 7002")
	want(x, y, 3)
	want(o, y, 3)
	want(y, y, 3)

	// The route lasts routeTTL at most.
	w.mu.Lock()
	w.since = time.Now().Add(-routeTTL - time.Second)
	w.mu.Unlock()
	want(o, o, 3)
	want(x, x, 3)

	// A tentative adoption (the replica's ROLE) is taken back when its
	// failover aborts; a confirmed one is not.
	w.adopt(y, x, true)
	want(y, x, 4)
	w.event(ctx, 0, evAbort, "master mymaster 127.0.0.1 7002")
	want(x, y, 5)
	want(y, y, 5)
	w.adopt(y, x, true)
	w.event(ctx, 0, evPromoted, "slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7002")
	w.event(ctx, 0, evAbort, "master mymaster 127.0.0.1 7002")
	want(y, x, 6)

	// Nothing is adopted after close.
	w.close()
	w.event(ctx, 0, evSwitchMaster, "mymaster 127.0.0.1 7001 127.0.0.1 7000")
	want(o, o, 6)
}

// TestCheckPromotion checks that a replica named by
// +failover-state-wait-promotion is adopted once its ROLE says master, and
// not before.
func TestCheckPromotion(t *testing.T) {
	master := redistest.StartServer(t)
	replica := redistest.StartServer(t, redistest.WithReplicaOf(master.Addr()))
	w, failovers := newTestWatcher(t, []string{"127.0.0.1:1"}, connection.Options{DialTimeout: time.Second, ReadTimeout: time.Second})
	w.start() // the watch of the unreachable sentinel only retries
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(replica.Addr())
	mhost, mport, _ := net.SplitHostPort(master.Addr())
	w.event(ctx, 0, evWaitPromotion, "slave "+replica.Addr()+" "+host+" "+port+" @ mymaster "+mhost+" "+mport)

	// Still a replica: asked every millisecond, never adopted.
	time.Sleep(100 * time.Millisecond)
	if n := failovers.Load(); n != 0 {
		t.Fatalf("adopted a replica (%d failovers)", n)
	}
	promoted := time.Now()
	if _, err := replica.Do("REPLICAOF", "NO", "ONE"); err != nil {
		t.Fatal(err)
	}
	for failovers.Load() == 0 {
		if time.Since(promoted) > 2*time.Second {
			t.Fatal("the promoted replica was not adopted within 2 s")
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("adopted %v after REPLICAOF NO ONE", time.Since(promoted).Round(time.Microsecond))
	if got := w.route(master.Addr()); got != replica.Addr() {
		t.Errorf("route(old master) = %s", got)
	}
	w.mu.Lock()
	tentative := w.tentative
	w.mu.Unlock()
	if !tentative {
		t.Error("an adoption on ROLE alone is not tentative")
	}
}

// TestCheckPromotionNoPerm checks that a user who may not run ROLE leaves
// the adoption to the sentinels' announcements, and that the check ends.
func TestCheckPromotionNoPerm(t *testing.T) {
	node := redistest.StartServer(t)
	if _, err := node.Do("ACL", "SETUSER", "limited", "on", ">pw", "~*", "+@all", "-role"); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	w, failovers := newTestWatcher(t, []string{"127.0.0.1:1"}, connection.Options{Username: "limited", Password: "pw"})
	w.d.logger = zap.New(core)
	host, port, _ := net.SplitHostPort(node.Addr())
	w.event(context.Background(), 0, evWaitPromotion, "slave "+node.Addr()+" "+host+" "+port+" @ mymaster 127.0.0.1 1")
	w.wg.Wait() // the check ends by itself
	if n := failovers.Load(); n != 0 {
		t.Errorf("%d failovers", n)
	}
	if logs.FilterMessageSnippet("ROLE refused").Len() != 1 {
		t.Errorf("logs: %v", logs.All())
	}
}

// TestWatchLifecycle checks when the watch runs, that it subscribes again
// after a sentinel restart, and that it waits longer and longer between
// attempts on a sentinel that does not answer.
func TestWatchLifecycle(t *testing.T) {
	ctx := context.Background()
	top := redistest.StartSentinel(t, redistest.WithSentinels(1), redistest.WithReplicas(0),
		redistest.WithSentinelPassword(sentinelPW))
	sent := top.Sentinels()[0]
	// subscribers counts the sentinel's clients subscribed to as many
	// channels as the watch (go-redis' failover clients subscribe to 2;
	// Sentinel has no PUBSUB command).
	subscribers := func() int {
		t.Helper()
		reply, err := sent.Do("CLIENT", "LIST")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(reply, " sub="+strconv.Itoa(len(watchedEvents))+" ")
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10 s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	closed := closedAddr(t)
	core, logs := observer.New(zapcore.DebugLevel)
	s, err := New(Config{
		MasterName:       top.MasterName(),
		SentinelAddrs:    []string{sent.Addr(), closed},
		SentinelPassword: sentinelPW,
		Connection:       connection.Options{DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond},
	}, WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.Sleep(100 * time.Millisecond)
	if n := subscribers(); n != 0 {
		t.Fatalf("New subscribed to the sentinel (%d subscribers): it must dial nothing", n)
	}

	started := time.Now()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	eventually("the watch subscribes after the first connection", func() bool { return subscribers() == 1 })

	sent.Restart(t)
	eventually("the watch subscribes again after a sentinel restart", func() bool { return subscribers() == 1 })
	if logs.FilterMessageSnippet("sentinel subscription lost").Len() == 0 {
		t.Error("the loss was not logged")
	}

	// The closed sentinel: attempts 50 ms, 100 ms, 200 ms, 400 ms, 800 ms
	// apart, then every 2 s.
	failed := func() int {
		n := 0
		for _, e := range logs.FilterMessageSnippet("sentinel subscription failed").All() {
			for _, f := range e.Context {
				if f.Key == "sentinel" && f.String == closed {
					n++
				}
			}
		}
		return n
	}
	eventually("attempts on the closed sentinel", func() bool { return failed() >= 3 })
	elapsed := time.Since(started)
	if n, most := failed(), maxAttempts(elapsed); n > most {
		t.Errorf("%d attempts in %v, at most %d expected: the watch spins", n, elapsed, most)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	eventually("Close ends the subscription", func() bool { return subscribers() == 0 })
}

// maxAttempts is the most subscription attempts a sentinel that refuses
// every connection gets within d: one at once, then after each wait of the
// backoff.
func maxAttempts(d time.Duration) int {
	n, wait := 1, watchMinRetry
	for waited := wait; waited <= d; waited += wait {
		n++
		wait = min(2*wait, watchMaxRetry)
	}
	return n
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

const sentinelPW = "watch-s3cret"
