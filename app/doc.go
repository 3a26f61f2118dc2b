// Package app is the core of rediscache: the site-scoped Cache, the Go form
// of Frappe's RedisWrapper. It depends only on the ports (never on an
// adapter), so the same Cache runs on the in-memory store, a standalone Redis
// or Redis Sentinel.
//
// # Keys
//
// Every key is prefixed with the site ("<site>|<key>"); the User option puts
// it in a user's scope ("<site>|user:<user>:<key>") and Shared leaves it
// unprefixed. See domain.MakeKey for the rules that keep sites apart.
//
// # Values
//
// Values and hash fields go through a ports.Codec (JSON by default, see
// JSONCodec). Read them with the generic helpers GetValue, GetOrGenerate,
// GetAll, HGet, HGetOrGenerate and HGetAll. Lists and sets hold raw strings,
// as in Frappe.
//
// # Request-local cache
//
// WithRequestCache returns a context that carries a read cache for one
// request or job, the counterpart of frappe.local.cache. Reads through such a
// context remember what they saw (misses included) and are answered locally
// until the request ends, which gives "repeatable read" within a request.
// Without it every read goes to the backend.
//
// # Errors
//
// Every method returns errors matching one of the domain sentinels
// (errors.Is): domain.ErrNotFound for a missing value, ErrInvalidArgument for
// bad input, ErrWrongType, ErrUnavailable when the backend is down, and
// ErrRefused (a kind of ErrUnavailable) when the server answers but refuses
// the command (OOM, NOPERM, READONLY, LOADING, BUSY, NOREPLICAS...). The one
// place where an error is absorbed is GetOrGenerate (and HGetOrGenerate):
// when the backend is down or refuses to store, it still returns the
// generated value, and logs the episode once.
package app
