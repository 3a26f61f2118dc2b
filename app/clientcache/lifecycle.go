package clientcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// EraseChannel is the global channel of the persistent-cache broadcast, the
// one Frappe uses (not site-prefixed: the payload names the site).
const EraseChannel = "clear_persistent_cache"

// Retry bounds of the resubscription after a lost subscription.
const (
	minRetry = 50 * time.Millisecond
	maxRetry = 2 * time.Second
)

type broadcaster = ports.Broadcast

// WithBroadcast enables EraseCaches and its hooks over b (usually the same
// adapter as the Invalidation port).
func WithBroadcast(b ports.Broadcast) Option {
	return func(o *options) { o.broadcast = b }
}

// Start subscribes to invalidations and starts the goroutine that applies
// them; local copies are served from then on. ctx bounds only the
// subscription; the goroutine lives until Stop. If the backend is
// unreachable, Start still succeeds: the cache stays in pass-through mode and
// keeps retrying in the background, so a cache outage never stops the host.
// Start on a started cache fails with domain.ErrInvalidArgument.
func (c *ClientCache) Start(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.cancel != nil {
		return fmt.Errorf("%w: clientcache already started", domain.ErrInvalidArgument)
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	// The subscription must honour ctx's deadline, but outlive ctx.
	stopAbort := context.AfterFunc(ctx, cancel)
	inv, invErr := c.inv.Invalidations(loopCtx)
	var bc <-chan []byte
	var bcErr error
	if c.opts.broadcast != nil && invErr == nil {
		bc, bcErr = c.opts.broadcast.Subscribe(loopCtx, EraseChannel)
	}
	if !stopAbort() && ctx.Err() != nil {
		cancel()
		return ctx.Err()
	}
	c.cancel = cancel
	c.stopped = make(chan struct{})
	c.clockStopped = make(chan struct{})
	c.advanceClock()
	go c.runClock(loopCtx, c.clockStopped)
	if invErr != nil {
		c.log.Warn("invalidation subscription failed; serving from the backend until it succeeds", zap.Error(invErr))
		inv = nil
	} else {
		c.local.clear()
		c.healthy.Store(true)
		c.log.Info("client cache on")
	}
	if bcErr != nil {
		c.log.Warn("broadcast subscription failed; retrying", zap.Error(bcErr))
		bc = nil
	}
	go c.loop(loopCtx, inv, bc)
	return nil
}

// Stop ends the invalidation goroutine, waits for it (or for ctx), and drops
// every local copy; afterwards the cache passes every call through. Stop on
// a stopped cache is a no-op.
func (c *ClientCache) Stop(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.cancel == nil {
		return nil
	}
	c.healthy.Store(false)
	c.cancel()
	select {
	case <-c.stopped:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.clockStopped:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.cancel = nil
	c.local.clear()
	return nil
}

// loop applies invalidations and broadcasts until ctx ends, resubscribing
// after a loss.
func (c *ClientCache) loop(ctx context.Context, inv <-chan domain.Invalidation, bc <-chan []byte) {
	defer close(c.stopped)
	invRetry, bcRetry := newBackoff(), newBackoff()
	wantBC := c.opts.broadcast != nil
	for {
		if inv == nil {
			var ok bool
			if inv, ok = c.resubscribe(ctx, invRetry); !ok {
				return
			}
		}
		if wantBC && bc == nil {
			ch, err := c.opts.broadcast.Subscribe(ctx, EraseChannel)
			if err == nil {
				bc = ch
				bcRetry.reset()
			} else if !bcRetry.wait(ctx) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-inv:
			if !ok {
				if ctx.Err() != nil {
					return
				}
				c.lose("invalidation stream closed")
				inv = nil
				continue
			}
			c.apply(ev)
		case msg, ok := <-bc:
			if !ok {
				bc = nil
				continue
			}
			c.hooks.run(c.cache.Site(), msg, c.log)
		}
	}
}

// lose turns local serving off and drops everything: changes may be missed.
func (c *ClientCache) lose(why string) {
	c.healthy.Store(false)
	c.local.clear()
	c.log.Warn("client cache off: " + why + "; serving from the backend until tracking is back")
}

// resubscribe retries the subscription with backoff, then flushes and turns
// local serving back on.
func (c *ClientCache) resubscribe(ctx context.Context, b *backoff) (<-chan domain.Invalidation, bool) {
	for {
		ch, err := c.inv.Invalidations(ctx)
		if err == nil {
			b.reset()
			c.local.clear()
			c.healthy.Store(true)
			c.log.Info("client cache back on")
			return ch, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		if !b.wait(ctx) {
			return nil, false
		}
	}
}

func (c *ClientCache) apply(ev domain.Invalidation) {
	if ev.All {
		n := c.local.clear()
		c.local.dropped.Add(uint64(n))
		if ev.Reason != domain.ReasonFlush {
			c.log.Info("client cache flushed", zap.String("reason", ev.Reason))
		}
		return
	}
	for _, k := range ev.Keys {
		if c.local.remove(k) {
			c.local.dropped.Add(1)
		}
	}
}

type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: minRetry} }
func (b *backoff) reset()  { b.d = minRetry }

// wait sleeps for the current delay (doubling it) or until ctx ends.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(2*b.d, maxRetry)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ErasePayload is the message EraseCaches publishes, as Frappe's
// {"doctype": ..., "site": ...}; a null doctype means every cache of the site.
type ErasePayload struct {
	Doctype *string `json:"doctype"`
	Site    string  `json:"site"`
}

// EraseCaches asks every process connected to the backend to run the hooks
// registered for this site and doctype (an empty doctype: all of the site's
// hooks), including this process. It needs WithBroadcast.
func (c *ClientCache) EraseCaches(ctx context.Context, doctype string) error {
	if c.opts.broadcast == nil {
		return fmt.Errorf("%w: EraseCaches needs WithBroadcast", domain.ErrNotSupported)
	}
	p := ErasePayload{Site: c.cache.Site()}
	if doctype != "" {
		p.Doctype = &doctype
	}
	msg, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("%w: %w", domain.ErrInvalidArgument, err)
	}
	return c.opts.broadcast.Publish(ctx, EraseChannel, msg)
}

// OnErase registers hook to run, on the invalidation goroutine, when an
// EraseCaches for this cache's site arrives. doctype is "" for "everything".
// Hooks must be quick; a panicking hook is recovered and logged.
func (c *ClientCache) OnErase(hook func(site, doctype string)) {
	c.hooks.add(hook)
}

type hookSet struct {
	mu    sync.Mutex
	hooks []func(site, doctype string)
}

func (h *hookSet) add(f func(site, doctype string)) {
	if f == nil {
		return
	}
	h.mu.Lock()
	h.hooks = append(h.hooks, f)
	h.mu.Unlock()
}

func (h *hookSet) run(site string, msg []byte, log *zap.Logger) {
	var p ErasePayload
	if err := json.Unmarshal(msg, &p); err != nil {
		log.Warn("ignoring a malformed erase message", zap.Error(err))
		return
	}
	if p.Site != site {
		return
	}
	doctype := ""
	if p.Doctype != nil {
		doctype = *p.Doctype
	}
	h.mu.Lock()
	hooks := append([]func(string, string){}, h.hooks...)
	h.mu.Unlock()
	for _, f := range hooks {
		func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("erase hook panicked", zap.Any("panic", r))
				}
			}()
			f(site, doctype)
		}()
	}
}

func joinErrors(errs []error) error { return errors.Join(errs...) }
