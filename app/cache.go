package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Config configures a Cache. The zero value is not usable: Site is required.
type Config struct {
	// Site is the site (Frappe's db_name) every key is prefixed with. It
	// must not be empty and must not contain "|". Required.
	Site string
	// Codec encodes values and hash fields. Nil means JSONCodec.
	Codec ports.Codec
}

// CacheOption configures a Cache's collaborators.
type CacheOption func(*Cache)

// WithLogger sets the logger for the failures a Cache absorbs (see
// GetOrGenerate). The default is zap.NewNop().
func WithLogger(l *zap.Logger) CacheOption {
	return func(c *Cache) {
		if l != nil {
			c.log = l
		}
	}
}

// Cache is a site-scoped cache over a ports.Store: the Go form of Frappe's
// RedisWrapper. It is safe for concurrent use; per-request state lives in the
// context (WithRequestCache), never in the Cache.
type Cache struct {
	store ports.Store
	site  string
	codec ports.Codec
	log   *zap.Logger
	// telCfg is WithTelemetry's setting, tel what it built (nil: report
	// nothing).
	telCfg *Telemetry
	tel    *cacheTelemetry
	// local is the store's memory (ports.LocalGetter), asked first when
	// the Cache reports telemetry: a read it answers is a local hit.
	local ports.LocalGetter

	absorbed absorbed
}

// New returns a Cache for cfg.Site over store.
func New(store ports.Store, cfg Config, opts ...CacheOption) (*Cache, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", domain.ErrInvalidArgument)
	}
	if err := domain.ValidateSite(cfg.Site); err != nil {
		return nil, err
	}
	c := &Cache{store: store, site: cfg.Site, codec: cfg.Codec, log: zap.NewNop()}
	if c.codec == nil {
		c.codec = JSONCodec{}
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	c.log = c.log.Named("rediscache")
	if c.telCfg != nil {
		t, err := newCacheTelemetry(*c.telCfg, c.site)
		if err != nil {
			return nil, fmt.Errorf("rediscache telemetry: %w", err)
		}
		c.tel = t
		c.local, _ = store.(ports.LocalGetter)
	}
	return c, nil
}

// Site returns the site the Cache's keys are prefixed with.
func (c *Cache) Site() string { return c.site }

// Codec returns the codec values go through.
func (c *Cache) Codec() ports.Codec { return c.codec }

// Store returns the store the Cache runs on.
func (c *Cache) Store() ports.Store { return c.store }

// Ping checks the backend when the store can (ports.Pinger); a store that
// cannot check is assumed reachable.
func (c *Cache) Ping(ctx context.Context) error {
	if p, ok := c.store.(ports.Pinger); ok {
		return p.Ping(ctx)
	}
	return ctx.Err()
}

// Connected reports whether the backend answers (Frappe's connected()).
func (c *Cache) Connected(ctx context.Context) bool { return c.Ping(ctx) == nil }

// MakeKey returns the Redis key for key under opts (User, Shared).
func (c *Cache) MakeKey(key string, opts ...Option) (string, error) {
	return domain.MakeKey(c.site, key, collect(opts).scope)
}

func (c *Cache) makeKeys(keys []string, o callOptions) ([]string, error) {
	made := make([]string, len(keys))
	for i, k := range keys {
		m, err := domain.MakeKey(c.site, k, o.scope)
		if err != nil {
			return nil, err
		}
		made[i] = m
	}
	return made, nil
}

// encode turns v into bytes. A nil value is rejected: delete the key instead.
func (c *Cache) encode(v any) ([]byte, error) {
	if v == nil {
		return nil, errNilValue
	}
	return c.codec.Encode(v)
}

// SetValue encodes v and stores it under key. Expires(ttl) sets an expiry
// (0: none, negative: ErrInvalidArgument). The request-local cache, when ctx
// carries one, sees the new value at once, even with an expiry (as Frappe).
func (c *Cache) SetValue(ctx context.Context, key string, v any, opts ...Option) error {
	data, err := c.encode(v)
	if err != nil {
		return err
	}
	return c.setRaw(ctx, "rediscache.SetValue", key, data, opts)
}

// SetRaw stores already encoded bytes under key, like SetValue.
func (c *Cache) SetRaw(ctx context.Context, key string, data []byte, opts ...Option) error {
	return c.setRaw(ctx, "rediscache.SetRaw", key, data, opts)
}

// setRaw is SetRaw traced as op.
func (c *Cache) setRaw(ctx context.Context, op, key string, data []byte, opts []Option) (err error) {
	o := collect(opts)
	k, err := domain.MakeKey(c.site, key, o.scope)
	if err != nil {
		return err
	}
	if err := domain.ValidateTTL(o.ttl); err != nil {
		return err
	}
	ctx, span := c.start(ctx, op, key)
	defer c.end(span, &err)
	if err := c.store.Set(ctx, k, data, o.ttl); err != nil {
		requestCacheFrom(ctx).forget(k)
		return err
	}
	requestCacheFrom(ctx).put(k, data, true)
	return nil
}

// GetRaw returns the encoded value of key, or domain.ErrNotFound. With a
// request-local cache in ctx, a value or miss seen earlier in the request is
// served from it, and what the backend returns is remembered (not with
// Expires). The request-local cache keeps copies: the caller may modify the
// returned slice (and the one it gave SetRaw) without changing what later
// reads of the request return.
func (c *Cache) GetRaw(ctx context.Context, key string, opts ...Option) ([]byte, error) {
	o := collect(opts)
	k, err := domain.MakeKey(c.site, key, o.scope)
	if err != nil {
		return nil, err
	}
	if data, err, ok := c.getLocal(ctx, k); ok {
		c.localHit(ctx, "rediscache.GetRaw", key)
		return data, err
	}
	if c.local != nil {
		if data, ok, err := c.local.GetLocal(k, false); ok {
			c.localHit(ctx, "rediscache.GetRaw", key)
			c.remember(ctx, k, o, data, err)
			return data, err
		}
	}
	ctx, span := c.start(ctx, "rediscache.GetRaw", key)
	data, err := c.getMade(ctx, k, o)
	c.endRead(span, &err, err == nil)
	return data, err
}

// getLocal answers a read of k from the request-local cache, when ctx
// carries one that saw k (ok).
func (c *Cache) getLocal(ctx context.Context, k string) (data []byte, err error, ok bool) {
	lv, ok := requestCacheFrom(ctx).get(k)
	switch {
	case !ok:
		return nil, nil, false
	case !lv.found:
		return nil, fmt.Errorf("get %q: %w", k, domain.ErrNotFound), true
	}
	return lv.data, nil, true
}

// getMade reads k from the backend (the request-local cache already
// missed) and remembers what it finds.
func (c *Cache) getMade(ctx context.Context, k string, o callOptions) ([]byte, error) {
	data, err := c.store.Get(ctx, k)
	c.remember(ctx, k, o, data, err)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// remember keeps what a read of k found (a value, or a miss) in the
// request-local cache, unless the key Expires.
func (c *Cache) remember(ctx context.Context, k string, o callOptions, data []byte, err error) {
	if o.expires {
		return
	}
	switch {
	case err == nil:
		requestCacheFrom(ctx).put(k, data, true)
	case errors.Is(err, domain.ErrNotFound):
		requestCacheFrom(ctx).put(k, nil, false)
	}
}

// GetOrGenerateRaw returns the encoded value of key; when it is missing, it
// calls gen, stores its result (with the Expires ttl, if any) and returns it.
//
// Unlike Frappe (K4), a miss remembered by the request-local cache does not
// stop gen from running. When the backend is unavailable (an error matching
// domain.ErrUnavailable: unreachable, or refusing the read or the store with
// domain.ErrRefused, e.g. OOM at maxmemory, NOPERM, READONLY), gen still
// runs and its value is returned with a nil error, as if there were no
// cache. Such failures are logged here, once per episode: the first one
// (Warn), and the next successful store (Info); not per call. An error from
// gen is returned as is and nothing is stored.
func (c *Cache) GetOrGenerateRaw(ctx context.Context, key string, gen func(context.Context) ([]byte, error), opts ...Option) (_ []byte, err error) {
	if gen == nil {
		return nil, errNilGenerator
	}
	o := collect(opts)
	k, err := domain.MakeKey(c.site, key, o.scope)
	if err != nil {
		return nil, err
	}
	if err := domain.ValidateTTL(o.ttl); err != nil {
		return nil, err
	}
	data, err, local := c.getLocal(ctx, k)
	if local && err == nil {
		c.localHit(ctx, "rediscache.GetOrGenerateRaw", key)
		return data, nil
	}
	if !local && c.local != nil {
		if data, ok, _ := c.local.GetLocal(k, true); ok {
			c.localHit(ctx, "rediscache.GetOrGenerateRaw", key)
			c.remember(ctx, k, o, data, nil)
			return data, nil
		}
	}
	ctx, span := c.start(ctx, "rediscache.GetOrGenerateRaw", key)
	hit := false
	defer func() { c.endRead(span, &err, hit) }()
	if !local { // a miss the request-local cache remembers runs gen too (K4)
		data, err = c.getMade(ctx, k, o)
	}
	switch {
	case err == nil:
		hit = true
		return data, nil
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrUnavailable):
	default:
		return nil, err
	}
	readErr := err
	data, err = gen(ctx)
	if err != nil {
		c.generated(ctx, false)
		return nil, err
	}
	if errors.Is(readErr, domain.ErrUnavailable) {
		c.generated(ctx, true)
		c.absorb(key, readErr)
		return data, nil
	}
	if err := c.store.Set(ctx, k, data, o.ttl); err != nil {
		if !errors.Is(err, domain.ErrUnavailable) {
			c.generated(ctx, false)
			return nil, err
		}
		c.generated(ctx, true)
		c.absorb(key, err)
		return data, nil
	}
	c.generated(ctx, false)
	c.stored()
	if !o.expires {
		requestCacheFrom(ctx).put(k, data, true)
	} else {
		requestCacheFrom(ctx).forget(k)
	}
	return data, nil
}

// ExpireKey sets the lifetime of an existing key (0 removes its expiry) and
// reports whether the key existed.
func (c *Cache) ExpireKey(ctx context.Context, key string, ttl time.Duration, opts ...Option) (_ bool, err error) {
	k, err := domain.MakeKey(c.site, key, collect(opts).scope)
	if err != nil {
		return false, err
	}
	ctx, span := c.start(ctx, "rediscache.ExpireKey", key)
	defer c.end(span, &err)
	return c.store.Expire(ctx, k, ttl)
}

// Exists reports whether key exists in the backend (the request-local cache
// is not consulted). A value stored as JSON null exists.
func (c *Cache) Exists(ctx context.Context, key string, opts ...Option) (bool, error) {
	n, err := c.countExisting(ctx, "rediscache.Exists", []string{key}, opts)
	return n > 0, err
}

// CountExisting returns how many of keys exist (Frappe's exists(*names)).
func (c *Cache) CountExisting(ctx context.Context, keys []string, opts ...Option) (int64, error) {
	return c.countExisting(ctx, "rediscache.CountExisting", keys, opts)
}

// countExisting is CountExisting traced as op.
func (c *Cache) countExisting(ctx context.Context, op string, keys []string, opts []Option) (_ int64, err error) {
	if len(keys) == 0 {
		return 0, nil
	}
	made, err := c.makeKeys(keys, collect(opts))
	if err != nil {
		return 0, err
	}
	ctx, span := c.start(ctx, op, oneKey(keys))
	defer c.end(span, &err)
	return c.store.Exists(ctx, made...)
}

// DeleteValue removes key (a value, hash, list or set) with UNLINK, and from
// the request-local cache.
func (c *Cache) DeleteValue(ctx context.Context, key string, opts ...Option) error {
	return c.deleteValues(ctx, "rediscache.DeleteValue", []string{key}, opts)
}

// DeleteKey is DeleteValue, as in Frappe.
func (c *Cache) DeleteKey(ctx context.Context, key string, opts ...Option) error {
	return c.deleteValues(ctx, "rediscache.DeleteKey", []string{key}, opts)
}

// DeleteValues removes keys in one UNLINK. No keys is a no-op.
func (c *Cache) DeleteValues(ctx context.Context, keys []string, opts ...Option) error {
	return c.deleteValues(ctx, "rediscache.DeleteValues", keys, opts)
}

// deleteValues is DeleteValues traced as op.
func (c *Cache) deleteValues(ctx context.Context, op string, keys []string, opts []Option) (err error) {
	if len(keys) == 0 {
		return nil
	}
	made, err := c.makeKeys(keys, collect(opts))
	if err != nil {
		return err
	}
	requestCacheFrom(ctx).forget(made...)
	ctx, span := c.start(ctx, op, oneKey(keys))
	defer c.end(span, &err)
	_, err = c.store.Del(ctx, made...)
	return err
}

// oneKey is the key attribute of an operation on keys: the key when there
// is one, none for several.
func oneKey(keys []string) string {
	if len(keys) == 1 {
		return keys[0]
	}
	return ""
}
