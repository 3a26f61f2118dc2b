package app

import (
	"context"
	"slices"

	"github.com/rediscache/rediscache/domain"
)

// scanBatch is how many keys GetKeys and DeleteKeys handle per SCAN call and
// per UNLINK.
const scanBatch = 500

// GetKeys returns the keys that start with prefix, in the scope of opts, in
// no particular order. Only prefix keeps its Redis glob meaning (`*`, `?`,
// `[...]`, `\`); the site and user segments are matched literally, so no site
// can list another site's keys. The keys come back as they would be passed
// to GetValue with the same options (without the site and user segments; this
// differs from Frappe, which returns full Redis keys). With Shared, keys of
// any site are left out.
//
// It uses SCAN, never KEYS. When the backend is down it returns
// domain.ErrUnavailable; it does not fall back to the request-local cache
// with an unescaped regex as Frappe does (K13). Each key is listed once,
// though SCAN may report a key twice.
func (c *Cache) GetKeys(ctx context.Context, prefix string, opts ...Option) (_ []string, err error) {
	ctx, span := c.start(ctx, "rediscache.GetKeys", "")
	defer c.end(span, &err)
	var keys []string
	scope := collect(opts).scope
	err = c.scan(ctx, prefix, scope, func(made []string) error {
		for _, m := range made {
			if k, ok := domain.TrimKey(c.site, m, scope); ok {
				keys = append(keys, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The result holds every key anyway: sorting it is the cheapest
	// de-duplication.
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// DeleteKeys removes every key that GetKeys(prefix, opts...) would list,
// scanning and unlinking in batches, and returns how many were removed. It
// holds one batch of keys at a time, whatever the number of keys (a key
// SCAN reports twice is unlinked twice, and counted once).
func (c *Cache) DeleteKeys(ctx context.Context, prefix string, opts ...Option) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.DeleteKeys", "")
	defer c.end(span, &err)
	var n int64
	rc := requestCacheFrom(ctx)
	err = c.scan(ctx, prefix, collect(opts).scope, func(made []string) error {
		rc.forget(made...)
		d, err := c.store.Del(ctx, made...)
		n += d
		return err
	})
	return n, err
}

// scan calls fn with batches of the full Redis keys of (site, scope) that
// start with prefix; keys outside the scope never reach fn.
func (c *Cache) scan(ctx context.Context, prefix string, scope domain.Scope, fn func(made []string) error) error {
	pattern, err := domain.KeyPattern(c.site, prefix, scope)
	if err != nil {
		return err
	}
	return c.store.Scan(ctx, pattern, scanBatch, func(keys []string) error {
		mine := keys[:0:0]
		for _, k := range keys {
			if _, ok := domain.TrimKey(c.site, k, scope); ok {
				mine = append(mine, k)
			}
		}
		if len(mine) == 0 {
			return nil
		}
		return fn(mine)
	})
}
