package clientcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// ClientCache is a per-process cache in front of an app.Cache. Build it with
// New, call Start to subscribe to invalidations, and Stop when done. It is
// safe for concurrent use.
//
// The app.Cache must run on the store whose reads the Invalidation port
// tracks (for Redis, the tracked store of the same adapter).
type ClientCache struct {
	cache     *app.Cache
	decorated *app.Cache // cache's operations over Store()
	store     ports.Store
	inv       ports.Invalidation
	cfg       Config
	opts      options
	local     *local
	log       *zap.Logger

	// site is the key prefix "<site>|" used to build keys without
	// allocating on the hit path.
	site string

	healthy atomic.Bool
	ttl     int64 // cfg.LocalTTL in nanoseconds

	// Clock of the hit path (clock.go).
	customClock bool          // WithClock was given: hits read it
	tick        time.Duration // period of runClock
	coarse      atomic.Int64  // an upper bound of now() until the next tick

	hooks hookSet

	lifeMu       sync.Mutex
	cancel       context.CancelFunc
	stopped      chan struct{}
	clockStopped chan struct{} // closed when runClock returns
}

// New returns a ClientCache over cache, kept correct by inv. It serves
// nothing locally until Start.
func New(cache *app.Cache, inv ports.Invalidation, cfg Config, opts ...Option) (*ClientCache, error) {
	if cache == nil || inv == nil {
		return nil, fmt.Errorf("%w: nil cache or invalidation", domain.ErrInvalidArgument)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := options{log: zap.NewNop()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	customClock := o.now != nil
	if !customClock {
		o.now = time.Now
	}
	c := &ClientCache{
		cache: cache,
		store: cache.Store(),
		inv:   inv,
		cfg:   cfg,
		opts:  o,
		local: newLocal(cfg.MaxEntries, cfg.MaxBytes),
		log:   o.log.Named("rediscache").Named("clientcache"),
		site:  cache.Site() + domain.SiteSeparator,
		ttl:   int64(cfg.LocalTTL),

		customClock: customClock,
		tick:        clockTick(cfg.LocalTTL),
	}
	// The Cache's own deletions, run over Store(), whose writes drop the
	// local copy of each key before and after reaching the backend.
	decorated, err := app.New(c.Store(), app.Config{Site: cache.Site(), Codec: cache.Codec()})
	if err != nil {
		return nil, err
	}
	c.decorated = decorated
	c.advanceClock()
	return c, nil
}

// Cache returns the plain Cache the ClientCache decorates.
func (c *ClientCache) Cache() *app.Cache { return c.cache }

// Codec returns the codec values go through.
func (c *ClientCache) Codec() ports.Codec { return c.cache.Codec() }

// Healthy reports whether local copies are being served, that is whether
// the invalidation subscription is live.
func (c *ClientCache) Healthy() bool { return c.healthy.Load() }

func (c *ClientCache) now() int64 { return c.opts.now().UnixNano() }

// siteKey builds "<site>|<key>" into buf without allocating.
func (c *ClientCache) siteKey(buf []byte, key string) []byte {
	buf = append(buf, c.site...)
	return append(buf, key...)
}

// errCachedMiss is returned for a remembered miss; a shared value keeps the
// hit path free of allocations.
var errCachedMiss = fmt.Errorf("rediscache: clientcache: %w", domain.ErrNotFound)

// hit looks key up without allocating when no options are given. ok is false
// when the local copy cannot answer.
func (c *ClientCache) hit(key string, opts []app.Option) (v any, err error, ok bool) {
	if !c.healthy.Load() {
		return nil, nil, false
	}
	var e *entry
	var sh *shard
	if len(opts) == 0 {
		if key == "" || len(key) > domain.MaxKeyLen {
			return nil, nil, false
		}
		var buf [192]byte
		sh, e = c.local.lookup(c.siteKey(buf[:0], key))
	} else {
		k, err := c.cache.MakeKey(key, opts...)
		if err != nil {
			return nil, nil, false
		}
		sh, e = c.local.lookup([]byte(k))
	}
	if e == nil || e.token != 0 || c.hitNow() >= e.expires {
		return nil, nil, false
	}
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	sh.hits.Add(1)
	if e.missing {
		return nil, errCachedMiss, true
	}
	return e.value, nil, true
}

// decoder turns the encoded value into the Go value kept locally.
type decoder func(ports.Codec, []byte) (any, error)

// generator produces the encoded value of a missing key, and the Go value.
type generator func(context.Context) (any, []byte, error)

// get is the slow path: a miss, a fetch (single-flight), or a pass-through
// while unhealthy.
func (c *ClientCache) get(ctx context.Context, key string, opts []app.Option, dec decoder, gen generator) (any, []byte, error) {
	if !c.healthy.Load() {
		return c.passThrough(ctx, key, opts, dec, gen)
	}
	k, err := c.cache.MakeKey(key, opts...)
	if err != nil {
		return nil, nil, err
	}
	return c.getMade(ctx, k, dec, gen, func() (any, []byte, error) {
		return c.passThrough(ctx, key, opts, dec, gen)
	})
}

// getMade serves the full Redis key k: a local hit, a wait on another
// goroutine's fetch, or a fetch of its own. fallback serves the read when a
// wait timed out.
func (c *ClientCache) getMade(ctx context.Context, k string, dec decoder, gen generator, fallback func() (any, []byte, error)) (any, []byte, error) {
	deadline := time.Now().Add(c.cfg.WaitTimeout)
	for {
		hit, wait, own := c.local.reserve(k, c.now())
		switch {
		case hit != nil:
			c.local.shardOfString(k).hits.Add(1)
			if hit.missing {
				if gen != nil {
					// A remembered miss does not stop a generator:
					// drop it and fetch.
					c.local.remove(k)
					continue
				}
				return nil, nil, errCachedMiss
			}
			return hit.value, hit.raw, nil
		case wait != nil:
			v, raw, err, done := c.await(ctx, wait, deadline)
			if !done {
				return nil, nil, err
			}
			if err == nil || errors.Is(err, domain.ErrNotFound) && gen == nil {
				return v, raw, err
			}
			if time.Now().After(deadline) {
				return fallback()
			}
			continue // the other fetch failed; try ourselves
		default:
			c.local.shardOfString(k).misses.Add(1)
			return c.fetch(ctx, k, own, dec, gen)
		}
	}
}

// await waits for another goroutine's fetch. done is false when ctx ended.
func (c *ClientCache) await(ctx context.Context, ph *entry, deadline time.Time) (v any, raw []byte, err error, done bool) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ph.done:
		return ph.res.value, ph.res.raw, ph.res.err, true
	case <-ctx.Done():
		return nil, nil, ctx.Err(), false
	case <-t.C:
		return nil, nil, fmt.Errorf("rediscache: clientcache: waiting for a fetch of %q: %w", ph.key, domain.ErrUnavailable), true
	}
}

// fetch reads k from the backend for the placeholder ph it owns, runs gen on
// a miss, and publishes the result if ph survived.
func (c *ClientCache) fetch(ctx context.Context, k string, ph *entry, dec decoder, gen generator) (v any, raw []byte, err error) {
	defer func() { c.local.finish(ph, fetchResult{value: v, raw: raw, err: err}) }()
	raw, err = c.store.Get(ctx, k)
	switch {
	case err == nil:
		v, err = dec(c.Codec(), raw)
		if err != nil {
			return nil, nil, err
		}
		c.local.publish(ph, c.newEntry(k, v, raw, false))
		return v, raw, nil
	case !errors.Is(err, domain.ErrNotFound):
		if gen != nil && errors.Is(err, domain.ErrUnavailable) {
			v, raw, gerr := gen(ctx)
			if gerr != nil {
				return nil, nil, gerr
			}
			c.log.Warn("backend unavailable; serving the generated value without caching it",
				zap.String("key", k), zap.Error(err))
			return v, raw, nil
		}
		return nil, nil, err
	case gen == nil:
		c.local.publish(ph, c.newEntry(k, nil, nil, true))
		return nil, nil, errCachedMiss
	}
	v, raw, err = gen(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := c.store.Set(ctx, k, raw, domain.NoExpiry); err != nil {
		if errors.Is(err, domain.ErrUnavailable) {
			c.log.Warn("backend unavailable; generated value not cached", zap.String("key", k), zap.Error(err))
			return v, raw, nil
		}
		return nil, nil, err
	}
	// The write untracked the key (NOLOOP): read it again to track it,
	// and keep what the backend holds now.
	if cur, err := c.store.Get(ctx, k); err == nil && string(cur) == string(raw) {
		c.local.publish(ph, c.newEntry(k, v, raw, false))
	}
	return v, raw, nil
}

func (c *ClientCache) newEntry(k string, v any, raw []byte, missing bool) *entry {
	return &entry{key: k, value: v, raw: raw, missing: missing, size: sizeOf(k, raw), expires: c.now() + c.ttl}
}

// passThrough serves a read the plain Cache's way, while unhealthy.
func (c *ClientCache) passThrough(ctx context.Context, key string, opts []app.Option, dec decoder, gen generator) (any, []byte, error) {
	var raw []byte
	var err error
	var generated any
	var didGen bool
	if gen != nil {
		raw, err = c.cache.GetOrGenerateRaw(ctx, key, func(ctx context.Context) ([]byte, error) {
			v, raw, err := gen(ctx)
			generated, didGen = v, err == nil
			return raw, err
		}, opts...)
	} else {
		raw, err = c.cache.GetRaw(ctx, key, opts...)
	}
	if err != nil {
		return nil, nil, err
	}
	if didGen {
		return generated, raw, nil
	}
	v, err := dec(c.Codec(), raw)
	return v, raw, err
}

// GetRaw returns the encoded value of key, from local memory when it can.
// The returned slice is shared: do not modify it.
func (c *ClientCache) GetRaw(ctx context.Context, key string, opts ...app.Option) ([]byte, error) {
	_, raw, err := c.get(ctx, key, opts, decodeRaw, nil)
	return raw, err
}

// GetOrGenerateRaw is GetRaw with a generator for a missing key.
func (c *ClientCache) GetOrGenerateRaw(ctx context.Context, key string, gen func(context.Context) ([]byte, error), opts ...app.Option) ([]byte, error) {
	if gen == nil {
		return nil, fmt.Errorf("%w: nil generator", domain.ErrInvalidArgument)
	}
	_, raw, err := c.get(ctx, key, opts, decodeRaw, func(ctx context.Context) (any, []byte, error) {
		raw, err := gen(ctx)
		return raw, raw, err
	})
	return raw, err
}

func decodeRaw(_ ports.Codec, raw []byte) (any, error) { return raw, nil }

var _ app.ValueReader = (*ClientCache)(nil)

// SetValue stores v under key (no expiry: values of a ClientCache are meant
// to live until changed) and keeps the new value locally. The key is read
// back right after the write, so it stays tracked; if another process wrote
// in between, its value is what stays local.
func (c *ClientCache) SetValue(ctx context.Context, key string, v any, opts ...app.Option) error {
	if v == nil {
		return fmt.Errorf("%w: nil value (use DeleteValue to remove a key)", domain.ErrInvalidArgument)
	}
	raw, err := c.Codec().Encode(v)
	if err != nil {
		return err
	}
	k, err := c.cache.MakeKey(key, opts...)
	if err != nil {
		return err
	}
	if !c.healthy.Load() {
		return c.store.Set(ctx, k, raw, domain.NoExpiry)
	}
	// Own the key's slot for the whole write so no concurrent fetch can
	// publish an older value after ours.
	c.local.remove(k)
	_, _, ph := c.local.reserve(k, c.now())
	if ph == nil {
		// Another goroutine is fetching it; write anyway and drop the
		// slot so its (possibly older) result is not kept.
		c.local.remove(k)
		return c.store.Set(ctx, k, raw, domain.NoExpiry)
	}
	var res fetchResult
	defer func() { c.local.finish(ph, res) }()
	if err := c.store.Set(ctx, k, raw, domain.NoExpiry); err != nil {
		res.err = err
		return err
	}
	cur, err := c.store.Get(ctx, k)
	if err != nil {
		return nil // written; the next read fetches and tracks it
	}
	// Keep a decoded copy, never the caller's value, which it may mutate.
	val, err := decodeAny(c.Codec(), cur, v)
	if err != nil {
		return nil
	}
	c.local.publish(ph, c.newEntry(k, val, cur, false))
	res = fetchResult{value: val, raw: cur}
	return nil
}

// DeleteValue removes key locally and from the backend (one UNLINK).
func (c *ClientCache) DeleteValue(ctx context.Context, key string, opts ...app.Option) error {
	return c.decorated.DeleteValue(ctx, key, opts...)
}

// DeleteKeys removes every key GetKeys(prefix, opts...) lists, locally and
// from the backend (SCAN and UNLINK in batches), and returns how many were
// removed from the backend.
func (c *ClientCache) DeleteKeys(ctx context.Context, prefix string, opts ...app.Option) (int64, error) {
	return c.decorated.DeleteKeys(ctx, prefix, opts...)
}

// ClearCache drops every local copy; the backend is untouched.
func (c *ClientCache) ClearCache() { c.local.clear() }

// Statistics returns the counters of Frappe's CacheStatistics and more.
func (c *ClientCache) Statistics() domain.Statistics {
	var hits, misses uint64
	for i := range c.local.shards {
		hits += c.local.shards[i].hits.Load()
		misses += c.local.shards[i].misses.Load()
	}
	used := int(c.local.count.Load())
	s := domain.Statistics{
		Hits:          hits,
		Misses:        misses,
		Capacity:      c.cfg.MaxEntries,
		Used:          used,
		Utilization:   domain.Round2(float64(used) / float64(c.cfg.MaxEntries)),
		Healthy:       c.healthy.Load(),
		Invalidations: c.local.dropped.Load(),
		Evictions:     c.local.evictions.Load(),
		Bytes:         c.local.bytes.Load(),
		MaxBytes:      c.cfg.MaxBytes,
	}
	if hits+misses > 0 {
		s.HitRatio = domain.Round2(float64(hits) / float64(hits+misses))
	}
	return s
}

// ResetStatistics zeroes hits and misses.
func (c *ClientCache) ResetStatistics() {
	for i := range c.local.shards {
		c.local.shards[i].hits.Store(0)
		c.local.shards[i].misses.Store(0)
	}
}
