package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Smoke is a quick round of every data port and of a Cache over s, under a
// fresh Prefix: for a connection set-up (TLS, credentials, a new adapter)
// whose commands the full suite already covers on another connection. It
// returns the first thing that went wrong, or nil. It does not need
// ginkgo, and leaves no key behind when it succeeds.
func Smoke(ctx context.Context, s ports.Store) error {
	p := Prefix()
	check := func(what string, err error, ok bool) error {
		switch {
		case err != nil:
			return fmt.Errorf("smoke: %s: %w", what, err)
		case !ok:
			return fmt.Errorf("smoke: %s: unexpected result", what)
		}
		return nil
	}
	if pinger, ok := s.(ports.Pinger); ok {
		if err := check("Ping", pinger.Ping(ctx), true); err != nil {
			return err
		}
	}

	// KeyValue.
	if err := check("Set", s.Set(ctx, p+"k", []byte("v"), time.Minute), true); err != nil {
		return err
	}
	v, err := s.Get(ctx, p+"k")
	if err := check("Get", err, bytes.Equal(v, []byte("v"))); err != nil {
		return err
	}
	if _, err := s.Get(ctx, p+"missing"); !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("smoke: Get of a missing key: %v, want ErrNotFound", err)
	}
	ttl, err := s.TTL(ctx, p+"k")
	if err := check("TTL", err, ttl > 0 && ttl <= time.Minute); err != nil {
		return err
	}
	var scanned []string
	err = s.Scan(ctx, domain.EscapeGlob(p)+"*", 0, func(keys []string) error {
		scanned = append(scanned, keys...)
		return nil
	})
	if err := check("Scan", err, slices.Contains(scanned, p+"k")); err != nil {
		return err
	}

	// Hash, Set, List.
	if err := check("HSet", s.HSet(ctx, p+"h", "f", []byte("1")), true); err != nil {
		return err
	}
	h, err := s.HGetAll(ctx, p+"h")
	if err := check("HGetAll", err, len(h) == 1 && string(h["f"]) == "1"); err != nil {
		return err
	}
	n, err := s.SAdd(ctx, p+"s", "a", "b")
	if err := check("SAdd", err, n == 2); err != nil {
		return err
	}
	member, err := s.SIsMember(ctx, p+"s", "a")
	if err := check("SIsMember", err, member); err != nil {
		return err
	}
	n, err = s.RPush(ctx, p+"l", "x", "y")
	if err := check("RPush", err, n == 2); err != nil {
		return err
	}
	l, err := s.LRange(ctx, p+"l", 0, -1)
	if err := check("LRange", err, slices.Equal(l, []string{"x", "y"})); err != nil {
		return err
	}

	// A Cache over s: site scope, listing and deletion.
	site := p + "site"
	c, err := app.New(s, app.Config{Site: site})
	if err != nil {
		return fmt.Errorf("smoke: app.New: %w", err)
	}
	if err := check("Cache.SetValue", c.SetValue(ctx, "greeting", "hello"), true); err != nil {
		return err
	}
	g, err := app.GetValue[string](ctx, c, "greeting")
	if err := check("GetValue", err, g == "hello"); err != nil {
		return err
	}
	keys, err := c.GetKeys(ctx, "")
	if err := check("GetKeys", err, slices.Equal(keys, []string{"greeting"})); err != nil {
		return err
	}
	n, err = c.DeleteKeys(ctx, "")
	if err := check("DeleteKeys", err, n == 1); err != nil {
		return err
	}

	n, err = s.Del(ctx, p+"k", p+"h", p+"s", p+"l")
	return check("Del", err, n == 4)
}
