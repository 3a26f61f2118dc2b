// Package sinkset holds the set of invalidation sinks a tracking store
// reports to, shared by the adapters that implement ports.Tracker.
package sinkset

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Set is the set of sinks registered with a store's Track. Reading it is
// lock-free (a copy-on-write slice), since every write of the store does.
// The zero value is an empty set.
type Set struct {
	mu   sync.Mutex // serialises add and remove
	list atomic.Pointer[[]*sinkRef]
}

// sinkRef boxes a sink so that the same sink registered twice is removed
// once per untrack.
type sinkRef struct{ s ports.InvalidationSink }

// Active reports whether any sink is registered.
func (ss *Set) Active() bool {
	l := ss.list.Load()
	return l != nil && len(*l) > 0
}

// Add registers s and returns its removal (idempotent; it returns the
// number of sinks left) and the number of sinks after the addition.
func (ss *Set) Add(s ports.InvalidationSink) (remove func() int, n int) {
	ref := &sinkRef{s}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var cur []*sinkRef
	if l := ss.list.Load(); l != nil {
		cur = *l
	}
	next := append(slices.Clip(cur), ref)
	ss.list.Store(&next)
	var once sync.Once
	left := -1
	return func() int {
		once.Do(func() {
			ss.mu.Lock()
			defer ss.mu.Unlock()
			next := slices.DeleteFunc(slices.Clone(*ss.list.Load()), func(r *sinkRef) bool { return r == ref })
			ss.list.Store(&next)
			left = len(next)
		})
		return left
	}, len(next)
}

func (ss *Set) each(f func(ports.InvalidationSink)) {
	if l := ss.list.Load(); l != nil {
		for _, r := range *l {
			f(r.s)
		}
	}
}

// Invalidate tells every sink that keys changed.
func (ss *Set) Invalidate(keys []string) {
	ss.each(func(s ports.InvalidationSink) { s.Invalidate(keys) })
}

// Drop tells every sink that what was read under scope may be stale.
func (ss *Set) Drop(scope *domain.Lease, reason string) {
	ss.each(func(s ports.InvalidationSink) { s.Drop(scope, reason) })
}
