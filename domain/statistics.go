package domain

import "math"

// Statistics describe a ClientCache, field for field those of Frappe's
// CacheStatistics plus counters Frappe lacks.
type Statistics struct {
	// Hits counts reads answered from local memory.
	Hits uint64
	// Misses counts reads that had to ask the backend.
	Misses uint64
	// Capacity is the configured maximum number of entries.
	Capacity int
	// Used is the number of entries held now.
	Used int
	// Utilization is Used/Capacity rounded to two decimals.
	Utilization float64
	// HitRatio is Hits/(Hits+Misses) rounded to two decimals, or 0 when
	// nothing was read. (Frappe reports None when Hits is zero.)
	HitRatio float64
	// Healthy is false while the cache passes every call through because
	// the invalidation stream is down.
	Healthy bool
	// Invalidations counts entries dropped because of a remote change.
	Invalidations uint64
	// Evictions counts entries dropped to honour the size bounds.
	Evictions uint64
	// Bytes is the accounted size of the entries held now.
	Bytes int64
	// MaxBytes is the configured byte bound; 0 means none.
	MaxBytes int64
}

// Round2 rounds x to two decimals, half to even, as Python's round(x, 2)
// does for the ratios Frappe reports.
func Round2(x float64) float64 {
	return math.RoundToEven(x*100) / 100
}
