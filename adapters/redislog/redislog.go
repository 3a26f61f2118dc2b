// Package redislog routes the log lines go-redis writes on its own (a dial
// that failed, the master a Sentinel client selected, a connection it could
// not close) through a zap logger, instead of the standard error that
// go-redis writes them to by default.
//
// go-redis has one logger for the whole process (redis.SetLogger): routing
// is process-wide state. Route installs a router once and keeps a stack of
// the zap loggers asked for; the latest one still routed receives the
// lines, and the function Route returns removes its logger again. When the
// last one is removed, go-redis' default logger (standard error) is put
// back. Route and its restore functions are safe for concurrent use, in any
// order: two fx apps in one test process each route and restore their own.
//
// go-redis offers no way to read the logger it has, so a logger set with
// redis.SetLogger by someone else is replaced while a route is active, and
// replaced by go-redis' default when the last route is removed. A host
// that sets its own go-redis logger should not use Route (fxmodule:
// KeepRedisLogger).
package redislog

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerName is the name the routed lines are logged under (zap's Named).
const LoggerName = "go-redis"

var (
	mu     sync.Mutex
	routes []*route // active routes, the latest last

	// active is the logger of the latest route; nil when none.
	active atomic.Pointer[zap.Logger]
)

// route is one call of Route.
type route struct{ logger *zap.Logger }

// router is the logger installed in go-redis while a route is active.
type router struct{}

// Route makes go-redis write its own log lines to logger (named
// LoggerName), each at a level that fits it (see Level), until the
// returned function is called. It is the plain function for hosts without
// fx; fxmodule.Module calls it on start when the host provides a
// *zap.Logger. A nil logger routes nothing and returns a no-op. The
// returned function is idempotent.
func Route(logger *zap.Logger) (restore func()) {
	if logger == nil {
		return func() {}
	}
	r := &route{logger: logger.Named(LoggerName)}
	mu.Lock()
	routes = append(routes, r)
	active.Store(r.logger)
	redis.SetLogger(router{}) // again each time: someone may have replaced it
	mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { remove(r) }) }
}

// remove ends route r: the latest remaining route gets the lines, or
// go-redis' default logger when none is left.
func remove(r *route) {
	mu.Lock()
	defer mu.Unlock()
	if i := slices.Index(routes, r); i >= 0 {
		routes = slices.Delete(routes, i, i+1)
	}
	if len(routes) == 0 {
		active.Store(nil)
		logging.Enable() // go-redis' default: standard error
		return
	}
	active.Store(routes[len(routes)-1].logger)
}

// Printf implements go-redis' logging interface: it logs the formatted
// line through the active route's logger at Level(format).
func (router) Printf(_ context.Context, format string, v ...any) {
	msg := strings.TrimSuffix(fmt.Sprintf(format, v...), "\n")
	l := active.Load()
	if l == nil {
		// A line in flight while the last route was removed.
		fmt.Fprintln(os.Stderr, "redis:", msg)
		return
	}
	if ce := l.Check(Level(format), msg); ce != nil {
		ce.Write()
	}
}

// Level returns the level a go-redis log line with this format string is
// logged at: Error for a recovered panic, Warn for a failure (failed to
// dial, a sentinel that did not answer, a connection that could not be
// closed), Debug for a sentinel address ignored, Info for the rest, the
// events of a working client (the master a Sentinel client selected, a new
// master, a new sentinel discovered).
func Level(format string) zapcore.Level {
	f := strings.ToLower(format)
	switch {
	case strings.Contains(f, "panic"):
		return zapcore.ErrorLevel
	case strings.HasPrefix(f, "sentinel: ignore"):
		return zapcore.DebugLevel
	case strings.Contains(f, "fail"), strings.Contains(f, "error"), strings.Contains(f, "unable"),
		strings.Contains(f, "cannot"), strings.Contains(f, "can't"), strings.Contains(f, "invalid"),
		strings.Contains(f, "timeout"), strings.Contains(f, "refused"), strings.Contains(f, "dropped"),
		strings.Contains(f, "unexpected"):
		return zapcore.WarnLevel
	}
	return zapcore.InfoLevel
}
