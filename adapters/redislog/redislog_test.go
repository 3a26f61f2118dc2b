package redislog

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/tests/redistest"
)

func observed(level zapcore.Level) (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(level)
	return zap.New(core), logs
}

func TestLevel(t *testing.T) {
	for format, want := range map[string]zapcore.Level{
		"redis: connection pool: failed to dial after %d attempts: %v":          zapcore.WarnLevel,
		"sentinel: GetMasterAddrByName addr=%s, master=%q failed: %s":           zapcore.WarnLevel,
		"sentinel: Sentinels master=%q failed: %s":                              zapcore.WarnLevel,
		"redis: failed to close connection: %v":                                 zapcore.WarnLevel,
		"redis: %v channel is full for %s (message is dropped)":                 zapcore.WarnLevel,
		"sentinel: selected addr=%s masterAddr=%s":                              zapcore.InfoLevel,
		"sentinel: new master=%q addr=%q":                                       zapcore.InfoLevel,
		"sentinel: discovered new sentinel=%q for master=%q":                    zapcore.InfoLevel,
		"pubsub: reconnecting to new endpoint %s (was %s)":                      zapcore.InfoLevel,
		"sentinel: ignore addr for master=%q":                                   zapcore.DebugLevel,
		"autopipeline: recovered dispatch panic: %v\n%s":                        zapcore.ErrorLevel,
		"push: error processing pending notifications before reading reply: %v": zapcore.WarnLevel,
	} {
		if got := Level(format); got != want {
			t.Errorf("Level(%q) = %v, want %v", format, got, want)
		}
	}
}

// dialFailure makes go-redis log a failed dial.
func dialFailure(t *testing.T) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redistest.ClosedAddr(t), MaxRetries: -1, DialerRetries: 1, PoolSize: 100})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
}

// TestRouteRealDialFailure checks that go-redis' own line about a failed
// dial reaches the routed logger at Warn, and no longer does once routing
// is restored.
func TestRouteRealDialFailure(t *testing.T) {
	logger, logs := observed(zapcore.DebugLevel)
	restore := Route(logger)
	dialFailure(t)
	entries := logs.FilterMessageSnippet("failed to dial").All()
	if len(entries) != 1 {
		t.Fatalf("routed %d dial-failure lines, want 1 (all: %v)", len(entries), logs.All())
	}
	if e := entries[0]; e.Level != zapcore.WarnLevel || e.LoggerName != LoggerName || !strings.Contains(e.Message, "connection refused") {
		t.Errorf("entry = %+v, want Warn from %q naming the refusal", e, LoggerName)
	}
	restore()
	restore() // idempotent
	dialFailure(t)
	if n := logs.FilterMessageSnippet("failed to dial").Len(); n != 1 {
		t.Errorf("after restore the logger still receives go-redis lines (%d)", n)
	}
	if active.Load() != nil {
		t.Error("a logger is still active after the last restore")
	}
}

// TestRouteStack checks that the latest route still active gets the lines,
// whatever order the routes are removed in.
func TestRouteStack(t *testing.T) {
	a, logsA := observed(zapcore.DebugLevel)
	b, logsB := observed(zapcore.DebugLevel)
	restoreA := Route(a)
	restoreB := Route(b)
	router{}.Printf(context.Background(), "one %d", 1)
	restoreA() // not the latest: b keeps the lines
	router{}.Printf(context.Background(), "two %d", 2)
	restoreC := Route(a)
	router{}.Printf(context.Background(), "three")
	restoreC()
	router{}.Printf(context.Background(), "four")
	restoreB()
	if got := messages(logsA); got != "three" {
		t.Errorf("a got %q, want three", got)
	}
	if got := messages(logsB); got != "one 1|two 2|four" {
		t.Errorf("b got %q, want one 1|two 2|four", got)
	}
	if active.Load() != nil || len(routes) != 0 {
		t.Error("routes left after every restore")
	}
}

func messages(logs *observer.ObservedLogs) string {
	var out []string
	for _, e := range logs.All() {
		out = append(out, e.Message)
	}
	return strings.Join(out, "|")
}

// TestRouteConcurrent routes, logs and restores from many goroutines at
// once (run with -race), and ends with nothing routed.
func TestRouteConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				logger, _ := observed(zapcore.InfoLevel)
				restore := Route(logger)
				router{}.Printf(context.Background(), "sentinel: selected addr=%s masterAddr=%s", "a", "b")
				restore()
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if active.Load() != nil || len(routes) != 0 {
		t.Errorf("%d routes left after every restore", len(routes))
	}
}

func TestRouteNil(t *testing.T) {
	Route(nil)()
	if active.Load() != nil {
		t.Error("Route(nil) routed")
	}
}
