package app

import (
	"time"

	"github.com/rediscache/rediscache/domain"
)

// Option adjusts one call: the key's scope (User, Shared) or its lifetime
// (Expires). Options that do not apply to a call are ignored.
type Option func(*callOptions)

type callOptions struct {
	scope   domain.Scope
	ttl     time.Duration
	expires bool
}

// User puts the key in the scope of the named user: "<site>|user:<name>:<key>".
// An empty name means no user scope. Frappe's user=True (the session user) is
// the caller's business in Go: pass the name.
//
// The user scope is a namespace inside the site, not an isolation
// boundary: it keeps two users' keys from colliding, it does not keep one
// user's code from the other's keys. A site-scope key "user:alice:otp" IS
// alice's "otp" (cache.GetValue(ctx, "user:alice:otp") reads what
// SetValue(ctx, "otp", v, User("alice")) wrote), site-scope listing and
// deletion cover every user's keys (DeleteKeys(ctx, "user:alice") removes
// all of alice's, as Frappe relies on), and any caller may pass any name.
// Sites are the isolation boundary (see domain.MakeKey); check who may act
// for which user before you call.
func User(name string) Option {
	return func(o *callOptions) { o.scope.User = name }
}

// Shared leaves the key unprefixed, visible to every site. Shared wins over
// User. A shared key must not contain "|", so that it can never name a site's
// key.
func Shared() Option {
	return func(o *callOptions) { o.scope.Shared = true }
}

// Expires says the key lives for ttl. On SetValue (and on the value stored by
// GetOrGenerate) it is the Redis expiry, following domain.NoExpiry: 0 means
// no expiry and a negative ttl is invalid. On reads it also means "this key
// expires": the value is not kept in the request-local cache, so a request
// never serves a copy that outlived its key. This is Frappe's expires=True.
func Expires(ttl time.Duration) Option {
	return func(o *callOptions) { o.ttl = ttl; o.expires = true }
}

func collect(opts []Option) callOptions {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}
