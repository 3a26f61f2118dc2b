package clientcache

import (
	"sync/atomic"

	"github.com/rediscache/rediscache/app/clientcache/internal/wtinylfu"
	"github.com/rediscache/rediscache/domain"
)

// counters are the ClientCache's event counts since the last
// ResetStatistics. Hits are counted per shard-sized stripe so that parallel
// hits do not contend on one cache line.
type counters struct {
	hits     [shardCount]paddedCounter
	misses   atomic.Uint64
	negHits  atomic.Uint64 // hits on a remembered miss (also in hits)
	inval    atomic.Uint64 // entries dropped by an invalidation
	dropped  atomic.Uint64 // entries dropped by a lost lease or a flush
	evSize   atomic.Uint64 // evictions to honour MaxEntries
	evBytes  atomic.Uint64 // evictions to honour MaxBytes
	admRej   atomic.Uint64 // fetched values the policy did not admit
	expLocal atomic.Uint64 // entries found past LocalTTL
	expKey   atomic.Uint64 // entries found past their key's TTL
	rejected atomic.Uint64 // values larger than MaxEntryBytes, served but not kept
	raced    atomic.Uint64 // fetches not kept: an invalidation, drop or stop came first
}

type paddedCounter struct {
	atomic.Uint64
	_ [56]byte
}

// hit counts a hit on stripe and returns that stripe's count.
func (c *counters) hit(stripe uint64, missing bool) uint64 {
	n := c.hits[stripe&(shardCount-1)].Add(1)
	if missing {
		c.negHits.Add(1)
	}
	return n
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

func (c *counters) totalHits() uint64 {
	var n uint64
	for i := range c.hits {
		n += c.hits[i].Load()
	}
	return n
}

func (c *counters) reset() {
	for i := range c.hits {
		c.hits[i].Store(0)
	}
	for _, a := range []*atomic.Uint64{&c.misses, &c.negHits, &c.inval, &c.dropped, &c.evSize,
		&c.evBytes, &c.admRej, &c.expLocal, &c.expKey, &c.rejected, &c.raced} {
		a.Store(0)
	}
}

// Statistics returns the counters of Frappe's CacheStatistics and more; see
// domain.Statistics. Counts run since New or the last ResetStatistics;
// Used, Bytes and NegativeEntries describe the local copy now.
func (c *ClientCache) Statistics() domain.Statistics {
	st := &c.st
	hits, misses := st.totalHits(), st.misses.Load()
	used := int(c.local.count.Load())
	s := domain.Statistics{
		Hits:            hits,
		Misses:          misses,
		NegativeHits:    st.negHits.Load(),
		Capacity:        c.cfg.MaxEntries,
		Used:            used,
		NegativeEntries: int(c.local.negative.Load()),
		Utilization:     domain.Round2(float64(used) / float64(c.cfg.MaxEntries)),
		Healthy:         c.Healthy(),
		Invalidations:   st.inval.Load(),
		Dropped:         st.dropped.Load(),
		Evictions:       st.evSize.Load() + st.evBytes.Load(),
		EvictionsSize:   st.evSize.Load(),
		EvictionsBytes:  st.evBytes.Load(),
		ExpiredLocalTTL: st.expLocal.Load(),
		ExpiredKeyTTL:   st.expKey.Load(),
		Rejected:        st.rejected.Load(),
		NotAdmitted:     st.admRej.Load(),
		Raced:           st.raced.Load(),
		Bytes:           c.local.bytes.Load(),
		MaxBytes:        c.cfg.MaxBytes,
	}
	if hits+misses > 0 {
		s.HitRatio = domain.Round2(float64(hits) / float64(hits+misses))
	}
	return s
}

// ResetStatistics zeroes every counter of Statistics (the entries held are
// kept).
func (c *ClientCache) ResetStatistics() { c.st.reset() }
