package clientcache

import (
	"sync/atomic"

	"github.com/rediscache/rediscache/app/clientcache/internal/wtinylfu"
	"github.com/rediscache/rediscache/domain"
)

// counters are the ClientCache's event counts since New: they only grow,
// so that the metrics observed from them are monotonic. Statistics reports
// them minus the snapshot ResetStatistics took (base). Hits and misses are
// counted per site (siteStats), hits in stripes so that parallel hits do not
// contend on one cache line.
type counters struct {
	negHits  atomic.Uint64 // hits on a remembered miss (also in hits)
	invKeys  atomic.Uint64 // keys reported by the tracker's Invalidate
	inval    atomic.Uint64 // entries dropped by an invalidation
	evSize   atomic.Uint64 // evictions to honour MaxEntries
	evBytes  atomic.Uint64 // evictions to honour MaxBytes
	admRej   atomic.Uint64 // fetched values the policy did not admit
	expLocal atomic.Uint64 // entries found past LocalTTL
	expKey   atomic.Uint64 // entries found past their key's TTL
	rejected atomic.Uint64 // values larger than MaxEntryBytes, served but not kept
	raced    atomic.Uint64 // fetches not kept: an invalidation, drop or stop came first
	// flushes and flushed count the flushes (drops of a lease's scope or
	// of everything) and the entries they dropped, by reason (indexed as
	// flushReasons).
	flushes [len(flushReasons)]atomic.Uint64
	flushed [len(flushReasons)]atomic.Uint64

	base atomic.Pointer[snapshot] // taken by ResetStatistics; nil: zero
}

type paddedCounter struct {
	atomic.Uint64
	_ [56]byte
}

// snapshot is the value of every cumulative count of Statistics at one
// moment.
type snapshot struct {
	hits, misses, negHits, inval, dropped, evSize, evBytes, admRej,
	expLocal, expKey, rejected, raced uint64
}

func (s snapshot) minus(b snapshot) snapshot {
	return snapshot{s.hits - b.hits, s.misses - b.misses, s.negHits - b.negHits, s.inval - b.inval,
		s.dropped - b.dropped, s.evSize - b.evSize, s.evBytes - b.evBytes, s.admRej - b.admRej,
		s.expLocal - b.expLocal, s.expKey - b.expKey, s.rejected - b.rejected, s.raced - b.raced}
}

// flush counts a flush for reason that dropped n entries.
func (c *counters) flush(reason string, n int64) {
	i := reasonIndex(reason)
	c.flushes[i].Add(1)
	c.flushed[i].Add(uint64(n))
}

func (c *counters) expired(e *entry) {
	if e.volatile {
		c.expKey.Add(1)
	} else {
		c.expLocal.Add(1)
	}
}

func (c *counters) evicted(cause wtinylfu.Cause) {
	switch cause {
	case wtinylfu.CauseEntries:
		c.evSize.Add(1)
	case wtinylfu.CauseWeight:
		c.evBytes.Add(1)
	case wtinylfu.CauseRejected:
		c.admRej.Add(1)
	}
}

// hit counts a hit of e (found by a goroutine on stripe) and returns the
// count of its stripe.
func (c *ClientCache) hit(e *entry, stripe uint64) uint64 {
	s := e.site
	n := s.hits[stripe&s.mask].Add(1)
	if e.missing {
		c.st.negHits.Add(1)
	}
	return n
}

// miss counts a miss of the full key k.
func (c *ClientCache) miss(k string) { c.sitesSeen.of(k).misses.Add(1) }

// totals reads every cumulative count.
func (c *ClientCache) totals() snapshot {
	st := &c.st
	s := snapshot{
		negHits: st.negHits.Load(), inval: st.inval.Load(), evSize: st.evSize.Load(),
		evBytes: st.evBytes.Load(), admRej: st.admRej.Load(), expLocal: st.expLocal.Load(),
		expKey: st.expKey.Load(), rejected: st.rejected.Load(), raced: st.raced.Load(),
	}
	for i := range st.flushed {
		s.dropped += st.flushed[i].Load()
	}
	c.sitesSeen.each(func(ss *siteStats) {
		s.hits += ss.totalHits()
		s.misses += ss.misses.Load()
	})
	return s
}

// Statistics returns the counters of Frappe's CacheStatistics and more; see
// domain.Statistics. Counts run since New or the last ResetStatistics;
// Used, Bytes and NegativeEntries describe the local copy now. The metrics
// (see the package documentation) report the same counts since New: a
// difference of two Statistics equals the difference of the metrics over
// the same interval.
func (c *ClientCache) Statistics() domain.Statistics {
	t := c.totals()
	if b := c.st.base.Load(); b != nil {
		t = t.minus(*b)
	}
	used := int(c.local.count.Load())
	s := domain.Statistics{
		Hits:            t.hits,
		Misses:          t.misses,
		NegativeHits:    t.negHits,
		Capacity:        c.cfg.MaxEntries,
		Used:            used,
		NegativeEntries: int(c.local.negative.Load()),
		Utilization:     domain.Round2(float64(used) / float64(c.cfg.MaxEntries)),
		Healthy:         c.Healthy(),
		Invalidations:   t.inval,
		Dropped:         t.dropped,
		Evictions:       t.evSize + t.evBytes,
		EvictionsSize:   t.evSize,
		EvictionsBytes:  t.evBytes,
		ExpiredLocalTTL: t.expLocal,
		ExpiredKeyTTL:   t.expKey,
		Rejected:        t.rejected,
		NotAdmitted:     t.admRej,
		Raced:           t.raced,
		Bytes:           c.local.bytes.Load(),
		MaxBytes:        c.cfg.MaxBytes,
	}
	if t.hits+t.misses > 0 {
		s.HitRatio = domain.Round2(float64(t.hits) / float64(t.hits+t.misses))
	}
	return s
}

// ResetStatistics zeroes every counter of Statistics (the entries held are
// kept). The metrics are not reset: they stay monotonic.
func (c *ClientCache) ResetStatistics() {
	t := c.totals()
	c.st.base.Store(&t)
}
