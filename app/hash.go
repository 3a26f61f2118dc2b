package app

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/trace"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Hash names take the site prefix and, like Frappe, the Shared option but not
// User. Fields are plain strings; values go through the codec.

// HSet encodes v and stores it in field of the hash name. An empty field is
// rejected with domain.ErrInvalidArgument (Frappe silently ignored a None
// field).
func (c *Cache) HSet(ctx context.Context, name, field string, v any, opts ...Option) error {
	data, err := c.encode(v)
	if err != nil {
		return err
	}
	return c.hsetRaw(ctx, "rediscache.HSet", name, field, data, opts)
}

// HSetRaw stores already encoded bytes in field of the hash name.
func (c *Cache) HSetRaw(ctx context.Context, name, field string, data []byte, opts ...Option) error {
	return c.hsetRaw(ctx, "rediscache.HSetRaw", name, field, data, opts)
}

// hsetRaw is HSetRaw traced as op (not traced when op is "": the caller's
// span covers it).
func (c *Cache) hsetRaw(ctx context.Context, op, name, field string, data []byte, opts []Option) (err error) {
	k, err := c.hashKey(name, field, opts)
	if err != nil {
		return err
	}
	if op != "" {
		var span trace.Span
		ctx, span = c.start(ctx, op, name)
		defer c.end(span, &err)
	}
	rc := requestCacheFrom(ctx)
	if err := c.store.HSet(ctx, k, field, data); err != nil {
		rc.hforget(k, field)
		return err
	}
	rc.hput(k, field, data)
	return nil
}

// HGetRaw returns the encoded value of field in the hash name, or
// domain.ErrNotFound. The request-local cache remembers values (not misses,
// as in Frappe).
func (c *Cache) HGetRaw(ctx context.Context, name, field string, opts ...Option) ([]byte, error) {
	k, err := c.hashKey(name, field, opts)
	if err != nil {
		return nil, err
	}
	if data, ok := requestCacheFrom(ctx).hget(k, field); ok {
		c.localHit(ctx, "rediscache.HGetRaw", name)
		return data, nil
	}
	ctx, span := c.start(ctx, "rediscache.HGetRaw", name)
	data, err := c.hgetMade(ctx, k, field)
	c.endRead(span, &err, err == nil)
	return data, err
}

// hgetMade reads field of the hash k from the backend (the request-local
// cache already missed) and remembers it.
func (c *Cache) hgetMade(ctx context.Context, k, field string) ([]byte, error) {
	data, err := c.store.HGet(ctx, k, field)
	if err != nil {
		return nil, err
	}
	requestCacheFrom(ctx).hput(k, field, data)
	return data, nil
}

// HGetOrGenerateRaw returns field of the hash name; when it is missing it
// calls gen and stores the result. Backend failures, refusals included, are
// handled and logged as in GetOrGenerateRaw: the generated value is served.
func (c *Cache) HGetOrGenerateRaw(ctx context.Context, name, field string, gen func(context.Context) ([]byte, error), opts ...Option) (_ []byte, err error) {
	if gen == nil {
		return nil, errNilGenerator
	}
	k, err := c.hashKey(name, field, opts)
	if err != nil {
		return nil, err
	}
	if data, ok := requestCacheFrom(ctx).hget(k, field); ok {
		c.localHit(ctx, "rediscache.HGetOrGenerateRaw", name)
		return data, nil
	}
	ctx, span := c.start(ctx, "rediscache.HGetOrGenerateRaw", name)
	hit := false
	defer func() { c.endRead(span, &err, hit) }()
	data, err := c.hgetMade(ctx, k, field)
	switch {
	case err == nil:
		hit = true
		return data, nil
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrUnavailable):
	default:
		return nil, err
	}
	readErr := err
	if data, err = gen(ctx); err != nil {
		c.generated(ctx, false)
		return nil, err
	}
	if errors.Is(readErr, domain.ErrUnavailable) {
		c.generated(ctx, true)
		c.absorb(name, readErr)
		return data, nil
	}
	if err := c.hsetRaw(ctx, "", name, field, data, opts); err != nil {
		if !errors.Is(err, domain.ErrUnavailable) {
			c.generated(ctx, false)
			return nil, err
		}
		c.generated(ctx, true)
		c.absorb(name, err)
		return data, nil
	}
	c.generated(ctx, false)
	c.stored()
	return data, nil
}

// HExists reports whether field exists in the hash name (never from the
// request-local cache).
func (c *Cache) HExists(ctx context.Context, name, field string, opts ...Option) (_ bool, err error) {
	ctx, span := c.start(ctx, "rediscache.HExists", name)
	defer c.end(span, &err)
	k, err := c.hashKey(name, field, opts)
	if err != nil {
		return false, err
	}
	return c.store.HExists(ctx, k, field)
}

// HGetAllRaw returns every field of the hash name, encoded; empty when it
// does not exist.
func (c *Cache) HGetAllRaw(ctx context.Context, name string, opts ...Option) (_ map[string][]byte, err error) {
	ctx, span := c.start(ctx, "rediscache.HGetAllRaw", name)
	defer c.end(span, &err)
	k, err := c.hashName(name, opts)
	if err != nil {
		return nil, err
	}
	return c.store.HGetAll(ctx, k)
}

// HKeys returns the field names of the hash name.
func (c *Cache) HKeys(ctx context.Context, name string, opts ...Option) (_ []string, err error) {
	ctx, span := c.start(ctx, "rediscache.HKeys", name)
	defer c.end(span, &err)
	k, err := c.hashName(name, opts)
	if err != nil {
		return nil, err
	}
	return c.store.HKeys(ctx, k)
}

// HDel removes fields from the hash name in one round trip and returns how
// many existed. To batch it with other deletions, use a Pipeline.
func (c *Cache) HDel(ctx context.Context, name string, fields []string, opts ...Option) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.HDel", name)
	defer c.end(span, &err)
	p := c.Pipeline()
	if err := p.HDel(name, fields, opts...); err != nil {
		return 0, err
	}
	return p.exec(ctx)
}

// HDelNames removes field from each hash in names, in one pipeline (Frappe
// uses it to drop a user from many per-user hashes).
func (c *Cache) HDelNames(ctx context.Context, names []string, field string, opts ...Option) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.HDelNames", field)
	defer c.end(span, &err)
	p := c.Pipeline()
	for _, name := range names {
		if err := p.HDel(name, []string{field}, opts...); err != nil {
			return 0, err
		}
	}
	return p.exec(ctx)
}

// HDelKeys removes field from every hash whose name starts with prefix (glob
// rules as in GetKeys), in one pipeline per scanned batch. Frappe's hdel_keys
// raised TypeError as soon as a key matched (K3).
func (c *Cache) HDelKeys(ctx context.Context, prefix, field string, opts ...Option) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.HDelKeys", field)
	defer c.end(span, &err)
	o := collect(opts)
	if field == "" {
		return 0, errEmptyField
	}
	var n int64
	rc := requestCacheFrom(ctx)
	err = c.scan(ctx, prefix, domain.Scope{Shared: o.scope.Shared}, func(made []string) error {
		dels := make([]ports.HashFields, len(made))
		for i, k := range made {
			dels[i] = ports.HashFields{Key: k, Fields: []string{field}}
			rc.hforget(k, field)
		}
		d, err := c.store.HDelBatch(ctx, dels)
		n += d
		if errors.Is(err, domain.ErrWrongType) {
			return nil // keys of other types share the prefix; skip them
		}
		return err
	})
	return n, err
}

func (c *Cache) hashName(name string, opts []Option) (string, error) {
	return domain.MakeKey(c.site, name, domain.Scope{Shared: collect(opts).scope.Shared})
}

func (c *Cache) hashKey(name, field string, opts []Option) (string, error) {
	if field == "" {
		return "", errEmptyField
	}
	return c.hashName(name, opts)
}

// Pipeline queues hash-field deletions and sends them in one round trip with
// Exec: the Go form of passing a redis-py pipeline to Frappe's hdel. A
// Pipeline is not safe for concurrent use.
type Pipeline struct {
	c    *Cache
	dels []ports.HashFields
}

// Pipeline returns an empty pipeline on c.
func (c *Cache) Pipeline() *Pipeline { return &Pipeline{c: c} }

// HDel queues the removal of fields from the hash name. The request-local
// cache of ctx passed to Exec forgets them. An invalid name or field is
// reported at once and nothing is queued.
func (p *Pipeline) HDel(name string, fields []string, opts ...Option) error {
	k, err := p.c.hashName(name, opts)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if f == "" {
			return errEmptyField
		}
	}
	if len(fields) > 0 {
		p.dels = append(p.dels, ports.HashFields{Key: k, Fields: fields})
	}
	return nil
}

// Len returns the number of queued hashes.
func (p *Pipeline) Len() int { return len(p.dels) }

// Exec sends the queued deletions in one round trip, empties the pipeline
// and returns how many fields existed. An empty pipeline sends nothing.
func (p *Pipeline) Exec(ctx context.Context) (_ int64, err error) {
	if len(p.dels) == 0 {
		p.dels = nil
		return 0, nil
	}
	ctx, span := p.c.start(ctx, "rediscache.Pipeline.Exec", "")
	defer p.c.end(span, &err)
	return p.exec(ctx)
}

// exec is Exec without a span of its own, for the Cache methods that trace
// themselves.
func (p *Pipeline) exec(ctx context.Context) (int64, error) {
	dels := p.dels
	p.dels = nil
	if len(dels) == 0 {
		return 0, nil
	}
	rc := requestCacheFrom(ctx)
	for _, d := range dels {
		rc.hforget(d.Key, d.Fields...)
	}
	return p.c.store.HDelBatch(ctx, dels)
}

// HGet returns field of the hash name decoded as T, or domain.ErrNotFound.
func HGet[T any](ctx context.Context, c *Cache, name, field string, opts ...Option) (T, error) {
	var v T
	data, err := c.HGetRaw(ctx, name, field, opts...)
	if err != nil {
		return v, err
	}
	err = c.codec.Decode(data, &v)
	return v, err
}

// HGetOrGenerate returns field of the hash name decoded as T, calling gen
// and storing its result when the field is missing.
func HGetOrGenerate[T any](ctx context.Context, c *Cache, name, field string, gen func(context.Context) (T, error), opts ...Option) (T, error) {
	var v T
	if gen == nil {
		return v, errNilGenerator
	}
	var generated *T
	data, err := c.HGetOrGenerateRaw(ctx, name, field, func(ctx context.Context) ([]byte, error) {
		g, err := gen(ctx)
		if err != nil {
			return nil, err
		}
		generated = &g
		return c.encode(g)
	}, opts...)
	if err != nil {
		return v, err
	}
	if generated != nil {
		return *generated, nil
	}
	err = c.codec.Decode(data, &v)
	return v, err
}

// HGetAll returns every field of the hash name decoded as T.
func HGetAll[T any](ctx context.Context, c *Cache, name string, opts ...Option) (map[string]T, error) {
	raw, err := c.HGetAllRaw(ctx, name, opts...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(raw))
	for f, data := range raw {
		var v T
		if err := c.codec.Decode(data, &v); err != nil {
			return nil, err
		}
		out[f] = v
	}
	return out, nil
}
