package clientcache

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Site is the ClientCache of one site: what Frappe's frappe.client_cache is
// for the current site. Every Site of a ClientCache shares its local
// memory, its bounds and its one tracking connection. Get one with
// ClientCache.Site; it is safe for concurrent use.
type Site struct {
	c     *ClientCache
	name  string
	cache *app.Cache // the site's Cache over c.Store(), traced (Cache())
	// plain is the same Cache without telemetry, for the operations the
	// Site delegates: the Site's span covers them, and a second span of
	// the same name underneath would count each operation twice.
	plain *app.Cache
	// prefix is "<site>|", used to build keys without allocating on the hit
	// path.
	prefix string
}

// Site returns the handle of the named site (Frappe's db_name), building it
// on first use; later calls return the same handle. A name that is not a
// valid site (empty, or containing "|") is domain.ErrInvalidArgument.
func (c *ClientCache) Site(name string) (*Site, error) {
	c.sitesMu.Lock()
	defer c.sitesMu.Unlock()
	if s := c.sites[name]; s != nil {
		return s, nil
	}
	cfg := app.Config{Site: name, Codec: c.cfg.Codec}
	cache, err := app.New(c.Store(), cfg, app.WithLogger(c.opts.log), app.WithTelemetry(c.opts.tel))
	if err != nil {
		return nil, err
	}
	plain, err := app.New(c.Store(), cfg, app.WithLogger(c.opts.log))
	if err != nil {
		return nil, err
	}
	s := &Site{c: c, name: name, cache: cache, plain: plain, prefix: name + domain.SiteSeparator}
	c.sites[name] = s
	return s, nil
}

// Name returns the site's name.
func (s *Site) Name() string { return s.name }

// ClientCache returns the process's ClientCache the site belongs to.
func (s *Site) ClientCache() *ClientCache { return s.c }

// Cache returns the site's app.Cache whose value reads go through local
// memory (see ClientCache.Store); everything else goes to the backend. It
// reports through the ClientCache's telemetry (app.WithTelemetry): its own
// spans (rediscache.HGetRaw, rediscache.LPush, …) and the
// rediscache.cache.generator counters. The Site's own methods (SetValue,
// DeleteValue, DeleteKeys, the reads) are traced once, by the Site.
func (s *Site) Cache() *app.Cache { return s.cache }

// Codec returns the codec values go through.
func (s *Site) Codec() ports.Codec { return s.c.cfg.Codec }

// key builds the full key of key with opts, into buf when opts is empty
// (no allocation).
func (s *Site) key(buf []byte, key string, opts []app.Option) ([]byte, bool) {
	if len(opts) > 0 {
		k, err := s.cache.MakeKey(key, opts...)
		if err != nil {
			return nil, false
		}
		return []byte(k), true
	}
	if key == "" || len(key) > domain.MaxKeyLen {
		return nil, false
	}
	buf = append(buf, s.prefix...)
	return append(buf, key...), true
}

// hit serves key from local memory without allocating when opts is empty;
// gen is set for a read with a generator, which a remembered miss does not
// answer.
func (s *Site) hit(key string, opts []app.Option, gen bool) (*entry, bool) {
	var buf [192]byte
	k, ok := s.key(buf[:0], key, opts)
	if !ok {
		return nil, false
	}
	return s.c.lookupHit(k, gen)
}

// get is the slow path of a read of key, traced as op (a child span of
// ctx's).
func (s *Site) get(ctx context.Context, op, key string, opts []app.Option, dec decoder, gen generator) (v any, raw []byte, err error) {
	ctx, span := s.c.startSpan(ctx, op, s.name, key, false)
	hit := false
	defer func() { s.c.endSpan(span, err, hit, gen == nil) }()
	k, err := s.cache.MakeKey(key, opts...)
	if err != nil {
		return nil, nil, err
	}
	v, raw, err, hit = s.c.read(ctx, k, dec, gen)
	return v, raw, err
}

// hitSpan records the local hit of op on key as a span when HitSpans is
// on; otherwise it costs one load.
func (s *Site) hitSpan(ctx context.Context, op, key string) {
	if s.c.tel.hitSpans {
		s.c.hitSpan(ctx, op, s.name, key)
	}
}

// traced runs the backend operation op on key as a span, a child of ctx's.
func (s *Site) traced(ctx context.Context, op, key string, f func(context.Context) error) error {
	ctx, span := s.c.startSpan(ctx, op, s.name, key, false)
	err := f(ctx)
	s.c.endSpan(span, err, false, false)
	return err
}

// storing turns produce, which produces the value of a missing key and its
// encoding, into a generator that also stores it under key with opts. When
// only storing fails, the value is returned with the store's error.
func (s *Site) storing(key string, opts []app.Option, produce func(context.Context) (any, []byte, error)) generator {
	return func(ctx context.Context) (any, []byte, error) {
		v, raw, err := produce(ctx)
		if err != nil {
			return nil, nil, err
		}
		return v, raw, s.plain.SetRaw(ctx, key, raw, opts...)
	}
}

// GetRaw returns the encoded value of key, from local memory when it can.
// The returned slice is the caller's own.
func (s *Site) GetRaw(ctx context.Context, key string, opts ...app.Option) ([]byte, error) {
	if e, ok := s.hit(key, opts, false); ok {
		s.hitSpan(ctx, "rediscache.GetRaw", key)
		if e.missing {
			return nil, errCachedMiss
		}
		return append([]byte(nil), e.raw...), nil
	}
	_, raw, err := s.get(ctx, "rediscache.GetRaw", key, opts, decodeRaw, nil)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), raw...), nil
}

// GetOrGenerateRaw is GetRaw with a generator for a missing key: gen runs
// once for all concurrent callers, and its value is stored (with the
// Expires option's TTL, if any) and kept locally. While the backend is down
// or refuses to store it, gen's value is returned without being kept.
func (s *Site) GetOrGenerateRaw(ctx context.Context, key string, gen func(context.Context) ([]byte, error), opts ...app.Option) ([]byte, error) {
	if gen == nil {
		return nil, fmt.Errorf("%w: nil generator", domain.ErrInvalidArgument)
	}
	if e, ok := s.hit(key, opts, true); ok {
		s.hitSpan(ctx, "rediscache.GetOrGenerateRaw", key)
		return append([]byte(nil), e.raw...), nil
	}
	_, raw, err := s.get(ctx, "rediscache.GetOrGenerateRaw", key, opts, decodeRaw, s.storing(key, opts, func(ctx context.Context) (any, []byte, error) {
		raw, err := gen(ctx)
		return raw, raw, err
	}))
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), raw...), nil
}

var _ app.ValueReader = (*Site)(nil)

// SetValue stores v under key (with the Expires option's TTL, if any)
// through the site's Cache, then fetches it back tracked so that the next
// read is a hit. Every ClientCache of the store sees the write before
// SetValue returns; if another process wrote in between, its value is what
// is kept.
func (s *Site) SetValue(ctx context.Context, key string, v any, opts ...app.Option) error {
	if v == nil {
		return fmt.Errorf("%w: nil value (use DeleteValue to remove a key)", domain.ErrInvalidArgument)
	}
	return s.traced(ctx, "rediscache.SetValue", key, func(ctx context.Context) error {
		if err := s.plain.SetValue(ctx, key, v, opts...); err != nil {
			return err
		}
		if k, err := s.cache.MakeKey(key, opts...); err == nil {
			s.c.refresh(ctx, k, func(codec ports.Codec, raw []byte) (any, error) { return decodeAny(codec, raw, v) })
		}
		return nil
	})
}

// DeleteValue removes key from the backend (one UNLINK) and locally.
func (s *Site) DeleteValue(ctx context.Context, key string, opts ...app.Option) error {
	return s.traced(ctx, "rediscache.DeleteValue", key, func(ctx context.Context) error {
		return s.plain.DeleteValue(ctx, key, opts...)
	})
}

// DeleteKeys removes every key GetKeys(prefix, opts...) of the site's Cache
// lists, from the backend (SCAN and UNLINK in batches) and locally, and
// returns how many were removed from the backend.
func (s *Site) DeleteKeys(ctx context.Context, prefix string, opts ...app.Option) (int64, error) {
	var n int64
	err := s.traced(ctx, "rediscache.DeleteKeys", prefix, func(ctx context.Context) (err error) {
		n, err = s.plain.DeleteKeys(ctx, prefix, opts...)
		return err
	})
	return n, err
}

// ErasePayload is the message EraseCaches publishes, as Frappe's
// {"doctype": ..., "site": ...}; a null doctype means every cache of the site.
type ErasePayload struct {
	Doctype *string `json:"doctype"`
	Site    string  `json:"site"`
}

// EraseCaches asks every process connected to the backend to run its
// OnErase hooks for this site and doctype (an empty doctype: every cache of
// the site), this process included. It needs a store that carries
// broadcasts (ports.Broadcast): else domain.ErrNotSupported.
func (s *Site) EraseCaches(ctx context.Context, doctype string) error {
	if s.c.bc == nil {
		return fmt.Errorf("%w: EraseCaches needs a store that implements ports.Broadcast", domain.ErrNotSupported)
	}
	p := ErasePayload{Site: s.name}
	if doctype != "" {
		p.Doctype = &doctype
	}
	msg, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("%w: %w", domain.ErrInvalidArgument, err)
	}
	return s.traced(ctx, "rediscache.EraseCaches", "", func(ctx context.Context) error {
		return s.c.bc.Publish(ctx, EraseChannel, msg)
	})
}
