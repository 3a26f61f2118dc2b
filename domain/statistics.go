package domain

import "math"

// Statistics describe a ClientCache, field for field those of Frappe's
// CacheStatistics plus counters Frappe lacks. Counts run since the cache was
// built or its statistics last reset; Used, NegativeEntries and Bytes
// describe the local copy now.
type Statistics struct {
	// Hits counts reads answered from local memory (each read counts
	// exactly once, as a hit or a miss).
	Hits uint64
	// Misses counts reads that had to ask the backend (or wait for
	// another reader's fetch).
	Misses uint64
	// NegativeHits counts the hits that found a remembered miss (the key
	// did not exist); they are part of Hits.
	NegativeHits uint64
	// Capacity is the configured maximum number of entries.
	Capacity int
	// Used is the number of entries held now, remembered misses included.
	Used int
	// NegativeEntries is how many of Used remember a missing key.
	NegativeEntries int
	// Utilization is Used/Capacity rounded to two decimals.
	Utilization float64
	// HitRatio is Hits/(Hits+Misses) rounded to two decimals, or 0 when
	// nothing was read. (Frappe reports None when Hits is zero.)
	HitRatio float64
	// Healthy is false while the cache passes every call through: not
	// started, stopped, or client tracking down.
	Healthy bool
	// Invalidations counts entries dropped because their key changed.
	Invalidations uint64
	// Dropped counts entries dropped together because the tracking that
	// covered them ended: a lost connection, a failover, a flush.
	Dropped uint64
	// Evictions counts entries dropped to honour the bounds: EvictionsSize
	// (MaxEntries) plus EvictionsBytes (MaxBytes).
	Evictions      uint64
	EvictionsSize  uint64
	EvictionsBytes uint64
	// ExpiredLocalTTL and ExpiredKeyTTL count entries found past their
	// local TTL, or past their key's TTL in the backend.
	ExpiredLocalTTL uint64
	ExpiredKeyTTL   uint64
	// Rejected counts values served but not kept: larger than the
	// per-entry byte cap.
	Rejected uint64
	// NotAdmitted counts fetched values the eviction policy did not keep:
	// requested less often than what they would have pushed out.
	NotAdmitted uint64
	// Raced counts fetches not kept because an invalidation, a drop or a
	// stop came while they were in flight.
	Raced uint64
	// Bytes is the accounted size of the entries held now (key and
	// encoded value of each).
	Bytes int64
	// MaxBytes is the configured byte bound; 0 means none.
	MaxBytes int64
}

// Round2 rounds x to two decimals, half to even, as Python's round(x, 2)
// does for the ratios Frappe reports.
func Round2(x float64) float64 {
	return math.RoundToEven(x*100) / 100
}
