// Package sitelimit bounds the cardinality of the site attribute of
// rediscache's metrics: the first Limit sites seen are reported under
// their own name, later ones under one shared value. The Cache and the
// ClientCache share it, so that both honour app.Telemetry.SiteLimit the
// same way.
package sitelimit

import (
	"reflect"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
)

// Limiter hands out the attribute set of each site: {key: name} for the
// first limit sites, {key: other} past it, the empty set when limit is
// negative. It is safe for concurrent use.
type Limiter struct {
	key, other string
	limit      int
	mu         sync.Mutex
	named      int
	sets       map[string]attribute.Set
}

// New returns a Limiter of the attribute key with limit named sites
// (negative: no site attribute), other the value past the limit.
func New(key, other string, limit int) *Limiter {
	return &Limiter{key: key, other: other, limit: limit, sets: map[string]attribute.Set{}}
}

// Set returns the attribute set of the site name, the same for every call
// with the same name.
func (l *Limiter) Set(name string) attribute.Set {
	if l.limit < 0 {
		return *attribute.EmptySet()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.sets[name]; ok {
		return s
	}
	var s attribute.Set
	if l.named < l.limit {
		l.named++
		s = attribute.NewSet(attribute.String(l.key, name))
	} else {
		s = attribute.NewSet(attribute.String(l.key, l.other))
	}
	l.sets[strings.Clone(name)] = s
	return s
}

// shared holds one Limiter per (owner, key, other, limit), so that the
// many Caches of one host (one a site) count their sites together.
var shared sync.Map

type sharedKey struct {
	owner      any
	key, other string
	limit      int
}

// Shared returns the Limiter shared by everyone passing the same owner
// (e.g. the metric.Meter the counts go to) and settings. An owner that
// cannot be a map key gets a Limiter of its own, as does one whose type is
// comparable but whose value is not (a struct holding an interface that
// holds a slice: hashing it panics, which is recovered here).
func Shared(owner any, key, other string, limit int) (l *Limiter) {
	if owner == nil || !reflect.TypeOf(owner).Comparable() {
		return New(key, other, limit)
	}
	defer func() {
		if recover() != nil {
			l = New(key, other, limit)
		}
	}()
	k := sharedKey{owner: owner, key: key, other: other, limit: limit}
	if v, ok := shared.Load(k); ok {
		return v.(*Limiter)
	}
	v, _ := shared.LoadOrStore(k, New(key, other, limit))
	return v.(*Limiter)
}
