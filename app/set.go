package app

import "context"

// SAdd adds members to the set name and returns how many were new (Frappe
// dropped the reply: K11).
func (c *Cache) SAdd(ctx context.Context, name string, members ...string) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.SAdd", name)
	defer c.end(span, &err)
	k, err := c.siteKey(name)
	if err != nil {
		return 0, err
	}
	if len(members) == 0 {
		return 0, nil
	}
	return c.store.SAdd(ctx, k, members...)
}

// SRem removes members from the set name and returns how many were present
// (Frappe dropped the reply: K11).
func (c *Cache) SRem(ctx context.Context, name string, members ...string) (_ int64, err error) {
	ctx, span := c.start(ctx, "rediscache.SRem", name)
	defer c.end(span, &err)
	k, err := c.siteKey(name)
	if err != nil {
		return 0, err
	}
	if len(members) == 0 {
		return 0, nil
	}
	return c.store.SRem(ctx, k, members...)
}

// SIsMember reports whether member is in the set name.
func (c *Cache) SIsMember(ctx context.Context, name, member string) (_ bool, err error) {
	ctx, span := c.start(ctx, "rediscache.SIsMember", name)
	defer c.end(span, &err)
	k, err := c.siteKey(name)
	if err != nil {
		return false, err
	}
	return c.store.SIsMember(ctx, k, member)
}

// SPop removes and returns a random member of the set name, or
// domain.ErrNotFound when it is empty.
func (c *Cache) SPop(ctx context.Context, name string) (_ string, err error) {
	ctx, span := c.start(ctx, "rediscache.SPop", name)
	defer c.end(span, &err)
	k, err := c.siteKey(name)
	if err != nil {
		return "", err
	}
	return c.store.SPop(ctx, k)
}

// SRandMember returns random members of the set name without removing them:
// up to count distinct members for count > 0, exactly -count possibly
// repeated members for count < 0. Frappe ignored count (K11).
func (c *Cache) SRandMember(ctx context.Context, name string, count int) (_ []string, err error) {
	ctx, span := c.start(ctx, "rediscache.SRandMember", name)
	defer c.end(span, &err)
	k, err := c.siteKey(name)
	if err != nil {
		return nil, err
	}
	return c.store.SRandMember(ctx, k, count)
}

// SMembers returns every member of the set name, in no particular order.
func (c *Cache) SMembers(ctx context.Context, name string) (_ []string, err error) {
	ctx, span := c.start(ctx, "rediscache.SMembers", name)
	defer c.end(span, &err)
	k, err := c.siteKey(name)
	if err != nil {
		return nil, err
	}
	return c.store.SMembers(ctx, k)
}
