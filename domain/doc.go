// Package domain holds the values and rules of rediscache: the site-scoped key
// model, the typed errors, suggestions, invalidation events and cache
// statistics. It does no I/O and imports only the standard library; every
// other package of the module may depend on it.
package domain
