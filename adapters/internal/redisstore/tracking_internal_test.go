package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// replyError is a server reply, as go-redis reports one.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

var _ redis.Error = replyError("")

func testSession(buffer int) *session {
	return &session{
		t:    &Tracked{Store: newStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), options{logger: zap.NewNop()})},
		l:    &listener{stopped: make(chan struct{})},
		id:   42,
		out:  make(chan domain.Invalidation, buffer),
		done: make(chan struct{}),
	}
}

func drain(ch chan domain.Invalidation) []domain.Invalidation {
	var got []domain.Invalidation
	for {
		select {
		case ev := <-ch:
			got = append(got, ev)
		default:
			return got
		}
	}
}

func TestDeliver(t *testing.T) {
	s := testSession(2)
	defer s.t.Store.Close()
	keys := func(k string) domain.Invalidation { return domain.Invalidation{Keys: []string{k}} }

	s.deliver(keys("a"))
	s.deliver(keys("b"))
	s.deliver(keys("c")) // full: a and b are dropped
	got := drain(s.out)
	if len(got) != 1 || !got[0].All || got[0].Reason != domain.ReasonOverflow {
		t.Fatalf("after overflow: %+v", got)
	}

	s.deliver(keys("a"))
	s.deliver(domain.Invalidation{All: true, Reason: domain.ReasonFlush}) // replaces a
	s.deliver(keys("b"))
	got = drain(s.out)
	if len(got) != 2 || got[0].Reason != domain.ReasonFlush || got[1].Keys[0] != "b" {
		t.Fatalf("after flush: %+v", got)
	}

	// Nothing is sent once the channel is closed.
	s.finished = true
	close(s.out)
	s.deliver(keys("x"))
	s.deliver(domain.Invalidation{All: true, Reason: domain.ReasonReconnect})
}

func TestConnLostAfterEnd(t *testing.T) {
	s := testSession(4)
	defer s.t.Store.Close()
	s.connLost()
	if got := drain(s.out); len(got) != 1 || got[0].Reason != domain.ReasonReconnect {
		t.Fatalf("events = %+v, want one All reconnect", got)
	}
	s.ended.Store(true)
	s.connLost()
	if got := drain(s.out); len(got) != 0 {
		t.Fatalf("events after the end = %+v", got)
	}
}

func TestConnSet(t *testing.T) {
	var lost atomic.Int32
	cs := newConnSet(func() { lost.Add(1) })

	// Closing a connection reports it lost, once.
	a, b := net.Pipe()
	defer b.Close()
	w := cs.add(a)
	if _, ok := w.(syscall.Conn); ok {
		t.Fatal("a pipe has no descriptor, its wrapper must not claim one")
	}
	_ = w.Close()
	_ = w.Close()
	if n := lost.Load(); n != 1 {
		t.Fatalf("lost %d times, want 1", n)
	}

	// A TCP connection the other end closed is found by sweep, once, and
	// its later close reports nothing more; an open one is left alone.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := func() (net.Conn, net.Conn) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return cs.add(c), s
	}
	open, openPeer := dial()
	defer open.Close()
	defer openPeer.Close()
	closing, closingPeer := dial()
	if _, ok := closing.(syscall.Conn); !ok {
		t.Fatal("the wrapper of a TCP connection hides its descriptor from go-redis' health check")
	}
	if _, err := openPeer.Write([]byte("+OK\r\n")); err != nil { // pending data: alive
		t.Fatal(err)
	}
	cs.sweep()
	if n := lost.Load(); n != 1 {
		t.Fatalf("sweep of open connections reported %d", n-1)
	}
	_ = closingPeer.Close()
	deadline := time.Now().Add(5 * time.Second)
	for lost.Load() != 2 && time.Now().Before(deadline) {
		cs.sweep()
		time.Sleep(time.Millisecond)
	}
	if n := lost.Load(); n != 2 {
		t.Fatalf("lost %d times after the peer closed, want 2", n)
	}
	cs.sweep()
	_ = closing.Close()
	if n := lost.Load(); n != 2 {
		t.Fatalf("lost %d times, want 2: a connection is reported once", n)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.conns) != 1 {
		t.Fatalf("%d connections registered, want the open one", len(cs.conns))
	}
}

// The null payload is recognised by go-redis' message text: check the
// format it is built from.
func TestNullPayloadText(t *testing.T) {
	var payload any
	if got := fmt.Sprintf("redis: unsupported pubsub message payload: %T", payload); got != nullPayloadError {
		t.Fatalf("go-redis would say %q, we look for %q", got, nullPayloadError)
	}
}

func TestTrackErrors(t *testing.T) {
	srv := redistest.StartServer(t)
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer client.Close()
	cn := client.Conn()
	defer cn.Close()

	// A REDIRECT to an ID that does not exist: ErrUnavailable, and the
	// session stops as lost.
	s := testSession(1)
	defer s.t.Store.Close()
	s.id = 1 << 40
	err := s.track(ctx, cn)
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("track with a dead REDIRECT = %v", err)
	}
	reason, cause, stopped := s.l.why()
	if !stopped || cause == nil {
		t.Fatalf("session not lost: %q %v %v", reason, cause, stopped)
	}

	// Once the session ended, connections are opened untracked.
	s2 := testSession(1)
	defer s2.t.Store.Close()
	s2.id = 1 << 40
	s2.ended.Store(true)
	if err := s2.track(ctx, cn); err != nil {
		t.Fatalf("track after the end = %v", err)
	}

	// Redis < 6 has no CLIENT TRACKING.
	old := replyError("ERR Unknown subcommand or wrong number of arguments for 'TRACKING'. Try CLIENT HELP")
	if err := translate("client tracking", "", old); !errors.Is(err, domain.ErrNotSupported) {
		t.Fatalf("unknown subcommand = %v", err)
	}
	if !isRedirectGone(replyError("ERR The client ID you want redirect to does not exist")) {
		t.Fatal("redirect error not recognised")
	}
	if isRedirectGone(errors.New("client ID does not exist")) {
		t.Fatal("a non-reply error taken for the server's reply")
	}
}
