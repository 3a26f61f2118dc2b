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
)

// EraseChannel is the global channel of the persistent-cache broadcast, the
// one Frappe uses (not site-prefixed: the payload names the site).
const EraseChannel = "clear_persistent_cache"

// Retry bounds of the erase-broadcast subscription.
const (
	minRetry = 50 * time.Millisecond
	maxRetry = 2 * time.Second
)

// Start registers the cache with its store's tracking and starts its
// goroutines; local copies are served from then on, while tracking is live.
// ctx bounds only the wait for tracking to come up. If the backend is
// unreachable, or cannot track, Start still succeeds: the cache passes
// every read through to the backend and the store keeps trying in the
// background, so a cache outage never stops the host. Start on a started
// cache fails with domain.ErrInvalidArgument; Start after Stop starts again.
func (c *ClientCache) Start(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.cancel != nil {
		return fmt.Errorf("%w: clientcache already started", domain.ErrInvalidArgument)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.advanceClock()
	untrack, err := c.store.Track(ctx, (*sink)(c))
	if untrack == nil && err != nil && ctx.Err() != nil {
		cancel()
		return err
	}
	// Serving starts once the sink is registered: no fetch is made
	// before its changes are reported.
	c.running.Store(true)
	wg := new(sync.WaitGroup)
	c.runCtx, c.cancel, c.untrack, c.wg = runCtx, cancel, untrack, wg
	wg.Add(1)
	go c.runClock(runCtx, wg)
	if c.bc != nil {
		// The first subscription is made here, so that an EraseCaches
		// published once Start returns reaches this process's hooks.
		subCtx, cancelSub := context.WithCancel(runCtx)
		unbind := context.AfterFunc(ctx, cancelSub)
		first, err := c.bc.Subscribe(subCtx, EraseChannel)
		if !unbind() || err != nil {
			cancelSub()
			first = nil
		}
		wg.Add(1)
		go c.eraseLoop(runCtx, wg, first, cancelSub)
	}
	if err != nil {
		c.log.Warn("client tracking not live; serving every read from the backend until it is", zap.Error(err))
	} else {
		c.log.Info("client cache on")
	}
	return nil
}

// Stop stops serving local copies at once (Healthy is false when Stop
// returns, whatever happens), leaves the store's tracking, drops every local
// copy, and waits for the cache's goroutines until ctx ends. Afterwards the
// cache passes every call through; Start starts it again, even after a Stop
// whose ctx ended first. Stop on a stopped cache is a no-op.
func (c *ClientCache) Stop(ctx context.Context) error {
	c.lifeMu.Lock()
	if c.cancel == nil {
		c.lifeMu.Unlock()
		return nil
	}
	c.running.Store(false)
	c.cancel()
	untrack, wg := c.untrack, c.wg
	c.cancel, c.untrack, c.runCtx, c.wg = nil, nil, nil, nil
	c.lifeMu.Unlock()
	// Drop before leaving the tracking: nothing can be published any more
	// (running is false), and no entry is served once its invalidations
	// stop arriving.
	c.st.flush(domain.ReasonStop, c.local.drop(nil))
	if untrack != nil {
		untrack()
	}
	done := make(chan struct{})
	go func() { // ends when the cache's goroutines, all cancelled, have
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// eraseLoop keeps the erase-broadcast subscription (first, when Start made
// one) and runs the hooks, until ctx ends. It never touches invalidations: a
// failing subscription (an ACL without the channel, maxclients) only delays
// EraseCaches.
func (c *ClientCache) eraseLoop(ctx context.Context, wg *sync.WaitGroup, first <-chan []byte, cancelFirst context.CancelFunc) {
	defer wg.Done()
	defer cancelFirst()
	if first != nil {
		for msg := range first {
			c.hooks.run(msg, c.log)
		}
	}
	wait := minRetry
	for ctx.Err() == nil {
		ch, err := c.bc.Subscribe(ctx, EraseChannel)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Debug("erase broadcast subscription failed; retrying", zap.Duration("in", wait), zap.Error(err))
			}
			if !sleep(ctx, wait) {
				return
			}
			wait = min(2*wait, maxRetry)
			continue
		}
		wait = minRetry
		for msg := range ch {
			c.hooks.run(msg, c.log)
		}
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// OnErase registers hook to run, on the cache's broadcast goroutine, when
// an EraseCaches of any site arrives (from any process, this one included);
// doctype is "" for "every cache of the site". Hooks must be quick; a
// panicking hook is recovered and logged.
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

func (h *hookSet) run(msg []byte, log *zap.Logger) {
	var p ErasePayload
	if err := json.Unmarshal(msg, &p); err != nil || p.Site == "" {
		log.Warn("ignoring a malformed erase message", zap.Error(errors.Join(err, errors.New("no site"))))
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
			f(p.Site, doctype)
		}()
	}
}
