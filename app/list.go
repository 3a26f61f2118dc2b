package app

import (
	"context"

	"github.com/rediscache/rediscache/domain"
)

// Lists and sets hold raw strings (no codec), under site-prefixed keys, as
// in Frappe. Errors are returned, never swallowed.

func (c *Cache) siteKey(key string) (string, error) {
	return domain.MakeKey(c.site, key, domain.Scope{})
}

// LPush prepends values to the list key and returns its new length.
func (c *Cache) LPush(ctx context.Context, key string, values ...string) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.LPush", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return 0, err
	}
	return c.store.LPush(ctx, k, values...)
}

// RPush appends values to the list key and returns its new length.
func (c *Cache) RPush(ctx context.Context, key string, values ...string) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.RPush", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return 0, err
	}
	return c.store.RPush(ctx, k, values...)
}

// LPop removes and returns the head of the list key, or domain.ErrNotFound.
func (c *Cache) LPop(ctx context.Context, key string) (_ string, err error) {
	ctx, span := c.start(ctx, "rediscache.LPop", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return "", err
	}
	return c.store.LPop(ctx, k)
}

// RPop removes and returns the tail of the list key, or domain.ErrNotFound.
func (c *Cache) RPop(ctx context.Context, key string) (_ string, err error) {
	ctx, span := c.start(ctx, "rediscache.RPop", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return "", err
	}
	return c.store.RPop(ctx, k)
}

// LLen returns the length of the list key.
func (c *Cache) LLen(ctx context.Context, key string) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.LLen", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return 0, err
	}
	return c.store.LLen(ctx, k)
}

// LRange returns the elements of the list key from start to stop inclusive
// (Redis indexes: -1 is the tail).
func (c *Cache) LRange(ctx context.Context, key string, start, stop int64) (_ []string, err error) {
	ctx, span := c.start(ctx, "rediscache.LRange", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return nil, err
	}
	return c.store.LRange(ctx, k, start, stop)
}

// LTrim keeps only the elements of the list key from start to stop inclusive.
func (c *Cache) LTrim(ctx context.Context, key string, start, stop int64) (err error) {
	ctx, span := c.start(ctx, "rediscache.LTrim", key)
	defer c.end(span, &err)
	k, err := c.siteKey(key)
	if err != nil {
		return err
	}
	return c.store.LTrim(ctx, k, start, stop)
}
