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
	"github.com/rediscache/rediscache/app/clientcache/internal/wtinylfu"
	"github.com/rediscache/rediscache/app/internal/sitelimit"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// ClientCache is the process's cache in front of a tracking store: one per
// store (per Redis deployment), serving every site of the process through
// per-site handles (Site). Build it with New, call Start to begin serving
// local copies, and Stop when done. It is safe for concurrent use.
type ClientCache struct {
	store   ports.TrackedStore
	bc      ports.Broadcast // nil when the store carries no broadcasts
	backlog ports.Backlog   // nil when the store reports none (backlog.go)
	cfg     Config
	opts    options
	log     *zap.Logger
	st      counters
	local   *local
	running atomic.Bool // between Start and Stop: fetches may publish
	ttl     int64       // cfg.LocalTTL in nanoseconds

	// Clock of the hit path (clock.go).
	base        time.Time // origin of now()
	customClock bool
	tick        time.Duration
	coarse      atomic.Int64 // an upper bound of now() until the next tick

	// Stepping aside for the store's I/O (backlog.go).
	lastBacklog atomic.Int64                    // when the store was last asked
	yielding    atomic.Pointer[<-chan struct{}] // a backlog readers wait on

	sitesMu sync.Mutex
	sites   map[string]*Site

	hooks hookSet

	// Telemetry (telemetry.go): the stats of every site seen, and the
	// span settings.
	sitesSeen siteRegistry
	tel       telemetry

	lifeMu  sync.Mutex
	cancel  context.CancelFunc // of the goroutines started by Start
	runCtx  context.Context    // ends at Stop; bounds detached fetches
	untrack func()
	// wg counts the goroutines of the current run (Start to Stop); nil
	// when stopped. Each run has its own: a Stop whose ctx ended leaves a
	// Wait behind, and a WaitGroup must not be reused before its Wait
	// returned.
	wg     *sync.WaitGroup
	logged sync.Map // refusal messages logged once (key: error text)
}

// New returns the ClientCache of store (on Redis: a standalone, Sentinel
// or cluster Store; in memory: a memory.Store). The Tracker must be the
// store's own, so that every write made through the store is seen. When
// store implements ports.Broadcast, EraseCaches and OnErase work. It
// serves nothing locally until Start.
func New(store ports.TrackedStore, cfg Config, opts ...Option) (*ClientCache, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", domain.ErrInvalidArgument)
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
		store:       store,
		cfg:         cfg,
		opts:        o,
		log:         o.log.Named("rediscache").Named("clientcache"),
		ttl:         int64(cfg.LocalTTL),
		base:        o.now(),
		customClock: customClock,
		tick:        clockTick(cfg.LocalTTL),
		sites:       make(map[string]*Site),
	}
	c.sitesSeen.sets = sitelimit.New(attrSite, app.OtherSite, o.tel.Limit())
	c.tel = telemetry{tracer: o.tel.Tracer(), hitSpans: o.tel.HitSpans, keyAttrs: o.tel.KeyAttributes}
	if err := c.registerMetrics(o.tel.Meter()); err != nil {
		return nil, fmt.Errorf("rediscache: clientcache: metrics: %w", err)
	}
	c.bc, _ = store.(ports.Broadcast)
	c.backlog, _ = store.(ports.Backlog)
	c.local = newLocal(cfg.MaxEntries, cfg.MaxBytes, cfg.MaxEntryBytes, &c.st, c.accept)
	c.advanceClock()
	return c, nil
}

// Codec returns the codec values go through.
func (c *ClientCache) Codec() ports.Codec { return c.cfg.Codec }

// Healthy reports whether local copies are being served: the cache is
// started and the store's tracking is live.
func (c *ClientCache) Healthy() bool { return c.running.Load() && c.store.Tracking() }

// ClearCache drops every local copy; the backend is untouched.
func (c *ClientCache) ClearCache() { c.st.flush(ReasonClear, c.local.drop(nil)) }

// accept is local.accept: a fetch publishes only while the cache runs and
// its lease is valid. Called under the entry's shard lock.
func (c *ClientCache) accept(e *entry) bool { return c.running.Load() && e.lease.Valid() }

// sink is the ClientCache as the ports.InvalidationSink of its store.
type sink ClientCache

func (s *sink) Invalidate(keys []string) {
	c := (*ClientCache)(s)
	c.st.invKeys.Add(uint64(len(keys)))
	for _, k := range keys {
		if c.local.remove(k) {
			c.st.inval.Add(1)
		}
	}
}

func (s *sink) Drop(scope *domain.Lease, reason string) {
	c := (*ClientCache)(s)
	n := c.local.drop(scope)
	if n > 0 {
		// A FLUSHALL reaches the tracker once per tracked connection:
		// only the reports that dropped something count as flushes.
		c.st.flush(reason, n)
	}
	if n > 0 && reason != domain.ReasonStop {
		c.log.Info("client cache dropped values", zap.String("reason", reason), zap.Int64("entries", n))
	}
}

// now reads the clock the expiries are measured with (monotonic unless
// WithClock was given).
func (c *ClientCache) now() int64 { return int64(c.opts.now().Sub(c.base)) }

// errCachedMiss is returned for a remembered miss; a shared value keeps the
// hit path free of allocations.
var errCachedMiss = fmt.Errorf("rediscache: clientcache: %w", domain.ErrNotFound)

// lookupHit serves key from local memory if it can, without allocating.
// ok is false when the local copy cannot answer; a remembered miss cannot
// answer a read with a generator (gen: K4), and is then not counted, since
// the read goes on to count its miss.
func (c *ClientCache) lookupHit(key []byte, gen bool) (e *entry, ok bool) {
	if y := c.yielding.Load(); y != nil {
		c.yield(y)
	}
	e = c.local.lookup(key)
	if e == nil || e.token != 0 || (gen && e.missing) {
		return nil, false
	}
	now := c.coarse.Load()
	if e.volatile || c.customClock {
		now = c.now()
	}
	if now >= e.expires {
		return nil, false
	}
	c.local.p.Access(&e.node)
	if n := c.hit(e, uint64(wtinylfu.Stripe())); n&backlogEvery == 0 && c.backlog != nil {
		c.checkBacklog()
	}
	return e, true
}

// decoder turns the encoded value into the Go value kept locally.
type decoder func(ports.Codec, []byte) (any, error)

func decodeRaw(_ ports.Codec, raw []byte) (any, error) { return raw, nil }

// generator produces, for a missing key, the Go value and its encoding, and
// stores it in the backend.
type generator func(context.Context) (any, []byte, error)

// read serves the full key k (after a failed lookupHit): a local hit found
// under the lock, a wait on another reader's fetch, or a fetch of its own.
// gen, when not nil, makes a value for a missing key (and a remembered miss
// does not stop it: K4). Every call counts one hit or one miss; hit
// reports which.
func (c *ClientCache) read(ctx context.Context, k string, dec decoder, gen generator) (v any, raw []byte, err error, isHit bool) {
	if !c.Healthy() {
		c.miss(k)
		v, raw, err = c.passThrough(ctx, k, dec, gen)
		return v, raw, err, false
	}
	deadline := time.Now().Add(c.cfg.WaitTimeout)
	counted := false
	for {
		hit, wait, own := c.local.reserve(k, c.now(), gen != nil)
		switch {
		case hit != nil:
			if !counted {
				c.hit(hit, uint64(len(k)))
			}
			if hit.missing {
				return nil, nil, errCachedMiss, !counted
			}
			return hit.value, hit.raw, nil, !counted
		case !counted:
			c.miss(k)
			counted = true
		}
		if own != nil {
			if own.absent {
				// A remembered miss, still tracked, was set aside for
				// gen: the key is missing, no need to read it again.
				v, raw, err = c.complete(ctx, own, fetchReply{}, dec, gen)
				return v, raw, err, false
			}
			v, raw, err = c.fetch(ctx, own, dec, gen)
			return v, raw, err, false
		}
		v, raw, err, done := c.await(ctx, wait, deadline)
		switch {
		case !done: // ctx ended
			return nil, nil, err, false
		case err == nil:
			return v, raw, nil, false
		case errors.Is(err, errWaitTimeout):
			v, raw, err = c.passThrough(ctx, k, dec, gen)
			return v, raw, err, false
		case !errors.Is(err, domain.ErrNotFound) || gen == nil:
			return nil, nil, err, false // the other reader's outcome is ours
		}
		// The other fetch found nothing, and we have a generator: try
		// ourselves.
	}
}

// errWaitTimeout ends a wait for another reader's fetch that took longer
// than WaitTimeout: the reader then reads the backend itself.
var errWaitTimeout = fmt.Errorf("rediscache: clientcache: waiting for another reader's fetch: %w", domain.ErrUnavailable)

// await waits for another reader's fetch. done is false when ctx ended.
func (c *ClientCache) await(ctx context.Context, ph *entry, deadline time.Time) (v any, raw []byte, err error, done bool) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ph.done:
		return ph.res.value, ph.res.raw, ph.res.err, true
	case <-ctx.Done():
		return nil, nil, ctx.Err(), false
	case <-t.C:
		return nil, nil, errWaitTimeout, true
	}
}

// fetchReply is what a fetch goroutine read.
type fetchReply struct {
	f   domain.Fetched
	err error
}

// Hand-over states of a placeholder (entry.claim) between the reader that
// owns it and the goroutine running its fetch.
const (
	claimWaiting = iota // the reader waits for the reply
	claimTaken          // the goroutine handed the reply to the reader
	claimLeft           // the reader left (ctx ended): the goroutine finishes
)

// fetch reads k for the placeholder ph the caller owns. The tracked read
// runs on a goroutine of the cache, detached from ctx: a reader whose
// deadline passes returns at once, and the fetch still completes and
// publishes for the next readers (a cancelled tracked read would cost its
// connection, and every value fetched on it). The reader that waited for the
// reply runs gen itself, with its own ctx.
func (c *ClientCache) fetch(ctx context.Context, ph *entry, dec decoder, gen generator) (any, []byte, error) {
	fctx, done, ok := c.detach()
	if !ok {
		// Stopped since the read began: read the plain way.
		return c.complete(ctx, ph, fetchReply{err: errStopped}, dec, gen)
	}
	replies := make(chan fetchReply, 1)
	go func() {
		defer done()
		f, err := c.store.Fetch(fctx, ph.key)
		if err != nil && fctx.Err() != nil {
			// Stop ended the run, not the reader's ctx: read the
			// plain way.
			err = errStopped
		}
		if ph.claim.CompareAndSwap(claimWaiting, claimTaken) {
			replies <- fetchReply{f, err}
			return
		}
		_, _, _ = c.complete(context.Background(), ph, fetchReply{f, err}, dec, nil)
	}()
	select {
	case r := <-replies:
		return c.complete(ctx, ph, r, dec, gen)
	case <-ctx.Done():
		if ph.claim.CompareAndSwap(claimWaiting, claimLeft) {
			return nil, nil, ctx.Err()
		}
		_, _, _ = c.complete(context.Background(), ph, <-replies, dec, nil)
		return nil, nil, ctx.Err()
	}
}

// errStopped is the reply of a fetch asked of a stopped cache, or ended by
// Stop: the reader then reads the plain way.
var errStopped = fmt.Errorf("rediscache: clientcache: stopped: %w", domain.ErrUnavailable)

// detach joins a detached fetch to the current run: it gets the run's ctx
// (it ends at Stop) and the Done of the run's WaitGroup, added to under
// lifeMu, so that the Stop that takes the WaitGroup waits for it. ok is
// false when the cache is stopped.
func (c *ClientCache) detach() (ctx context.Context, done func(), ok bool) {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.wg == nil {
		return nil, nil, false
	}
	c.wg.Add(1)
	return c.runCtx, c.wg.Done, true
}

// complete publishes what the fetch for ph read (or what gen made of a
// miss), wakes the readers waiting on ph, and returns the value.
func (c *ClientCache) complete(ctx context.Context, ph *entry, r fetchReply, dec decoder, gen generator) (v any, raw []byte, err error) {
	defer func() { c.local.finish(ph, fetchResult{value: v, raw: raw, err: err}) }()
	f := r.f
	switch {
	case r.err != nil && errors.Is(r.err, domain.ErrUnavailable):
		// Tracking is down (or the backend): read it the plain way.
		return c.passThrough(ctx, ph.key, dec, gen)
	case r.err != nil:
		return nil, nil, r.err
	case !f.Found && gen != nil:
		return c.generate(ctx, ph.key, dec, gen, nil)
	case !f.Found:
		c.local.publish(ph, c.newEntry(ph.key, nil, nil, true, f))
		return nil, nil, errCachedMiss
	}
	v, err = dec(c.cfg.Codec, f.Value)
	if err != nil {
		return nil, nil, err
	}
	e := c.newEntry(ph.key, v, f.Value, false, f)
	if c.cfg.MaxEntryBytes > 0 && e.size > c.cfg.MaxEntryBytes {
		c.st.rejected.Add(1)
	} else {
		c.local.publish(ph, e)
	}
	return v, f.Value, nil
}

// generate runs gen for the missing key k; gen also stores the value
// (through the site's Cache), and returns it with the store's error when
// only storing failed. While the backend is down or refuses the write,
// gen's value is served without being kept, and that is logged once. A
// stored value is fetched back, tracked, so that the next read is a hit.
// dec decodes what is fetched back; readErr is the error of the read that
// found nothing, if any.
func (c *ClientCache) generate(ctx context.Context, k string, dec decoder, gen generator, readErr error) (any, []byte, error) {
	site := c.sitesSeen.of(k)
	site.genRuns.Add(1)
	gctx, span := c.startSpan(ctx, "rediscache.generate", site.name, trimSite(k), false)
	v, raw, err := gen(gctx)
	c.endSpan(span, err, false, false)
	switch {
	case err == nil:
	case v != nil && errors.Is(err, domain.ErrUnavailable):
		site.genUnstored.Add(1)
		c.logOnce("backend unavailable or refusing writes; serving generated values without caching them", k, err)
		return v, raw, nil
	default:
		return nil, nil, err
	}
	if readErr == nil {
		c.refresh(ctx, k, dec)
	}
	return v, raw, nil
}

// logOnce logs msg at Warn the first time err's kind is seen.
func (c *ClientCache) logOnce(msg, key string, err error) {
	if _, seen := c.logged.LoadOrStore(msg, true); !seen {
		c.log.Warn(msg+" (logged once)", zap.String("key", key), zap.Error(err))
	}
}

func (c *ClientCache) newEntry(k string, v any, raw []byte, missing bool, f domain.Fetched) *entry {
	now := c.now()
	e := &entry{key: k, value: v, raw: raw, missing: missing, size: sizeOf(k, raw),
		expires: now + c.ttl, lease: f.Lease, site: c.sitesSeen.of(k)}
	if f.TTL > 0 && int64(f.TTL) < c.ttl {
		e.expires, e.volatile = now+int64(f.TTL), true
	}
	return e
}

// passThrough serves a read the plain Cache's way: the cache is not
// serving, or tracking is down.
func (c *ClientCache) passThrough(ctx context.Context, k string, dec decoder, gen generator) (any, []byte, error) {
	raw, err := c.store.Get(ctx, k)
	switch {
	case err == nil:
		v, err := dec(c.cfg.Codec, raw)
		return v, raw, err
	case errors.Is(err, domain.ErrNotFound) && gen == nil:
		return nil, nil, err
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrUnavailable) && gen != nil:
		return c.generate(ctx, k, dec, gen, nil)
	}
	return nil, nil, err
}

// refresh fetches k so that the next read is a hit (after the cache's own
// write of k), keeping it decoded by dec (raw bytes when nil). Failures
// only cost that hit.
func (c *ClientCache) refresh(ctx context.Context, k string, dec decoder) {
	if !c.Healthy() {
		return
	}
	if dec == nil {
		dec = decodeRaw
	}
	_, _, own := c.local.reserve(k, c.now(), true)
	if own != nil {
		_, _, _ = c.fetch(ctx, own, dec, nil)
	}
}
