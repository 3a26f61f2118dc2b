package domain

import (
	"sync/atomic"
	"time"
)

// Lease is the tracking that covers values read through a tracker: as long
// as it is valid, the backend reports every change of those keys. A lease
// belongs to the connection a value was read on, and through its parents to
// what else that tracking depends on: the tracking session (the
// invalidation connection) of that connection's server and, on a cluster,
// the node's ownership of the key's hash slot. Revoking any ancestor
// revokes every lease below it.
//
// Leases are created and revoked by adapters; a local cache keeps the lease
// of each value it holds and drops the values of a lease when told it was
// revoked. A nil *Lease is never valid.
type Lease struct {
	parents []*Lease
	revoked atomic.Bool
	// members, for a scope made by AnyOf, are the leases it stands for.
	members map[*Lease]struct{}
}

// NewLease returns a valid lease under parents (none, or only nil ones,
// for a root lease). It is valid while none of its ancestors is revoked.
func NewLease(parents ...*Lease) *Lease {
	l := &Lease{}
	for _, p := range parents {
		if p != nil {
			l.parents = append(l.parents, p)
		}
	}
	return l
}

// AnyOf returns a scope for InvalidationSink.Drop that covers every lease
// that any of leases covers: one Drop, one pass over a cache, for many
// revoked leases (the hash slots a cluster node gave away). The scope
// itself is not a lease values are read under: it is never valid.
func AnyOf(leases ...*Lease) *Lease {
	l := &Lease{members: make(map[*Lease]struct{}, len(leases))}
	l.revoked.Store(true)
	for _, m := range leases {
		if m != nil {
			l.members[m] = struct{}{}
		}
	}
	return l
}

// Revoke makes l and every lease under it invalid. It reports whether this
// call did it (false when l was already revoked).
func (l *Lease) Revoke() bool { return l != nil && !l.revoked.Swap(true) }

// Valid reports whether neither l nor any of its ancestors is revoked.
func (l *Lease) Valid() bool {
	if l == nil || l.revoked.Load() {
		return false
	}
	for _, p := range l.parents {
		if !p.Valid() {
			return false
		}
	}
	return true
}

// Covers reports whether other is l or a lease under l (for a scope made
// by AnyOf: under one of its members). A nil l covers every lease.
func (l *Lease) Covers(other *Lease) bool {
	switch {
	case l == nil:
		return true
	case other == nil:
		return false
	case l.members != nil:
		if _, ok := l.members[other]; ok {
			return true
		}
	case other == l:
		return true
	}
	for _, p := range other.parents {
		if l.Covers(p) {
			return true
		}
	}
	return false
}

// Fetched is the result of a tracked read: the value of a key (or its
// absence), its remaining lifetime, and the lease that covers it.
type Fetched struct {
	// Value is the key's value; nil when !Found.
	Value []byte
	// Found is false when the key did not exist (a miss is tracked too).
	Found bool
	// TTL is the key's remaining lifetime when it has one, 0 when it has
	// none (or was not found).
	TTL time.Duration
	// Lease covers the read: while it is valid, a change of the key is
	// reported to the tracker's sinks.
	Lease *Lease
}

// Reasons a tracker drops cached values (InvalidationSink.Drop) or a cache
// flushes its local copy. They are metric attribute values: short and
// stable.
const (
	// ReasonFlushAll: the server's data was flushed (FLUSHALL, FLUSHDB).
	ReasonFlushAll = "flushall"
	// ReasonConnLost: a tracked connection, or the invalidation
	// connection, was lost or closed; the server forgot what it tracked.
	ReasonConnLost = "connection_lost"
	// ReasonFailover: the server was replaced by another (Sentinel or
	// cluster failover).
	ReasonFailover = "failover"
	// ReasonSlotMoved: cluster slots moved to another node.
	ReasonSlotMoved = "slot_moved"
	// ReasonStop: the cache or the store was stopped or closed.
	ReasonStop = "stop"
)
