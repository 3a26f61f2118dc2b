package wtinylfu

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// benchKeys is the number of entries the hit benchmarks cycle over (a power
// of two: the index is masked), as tests/bench's BenchmarkHit does.
const benchKeys = 1024

type benchEntry struct {
	key  int
	node Node[*benchEntry]
}

func benchPolicy(b *testing.B) (*Policy[*benchEntry], []*benchEntry) {
	b.Helper()
	p, err := New[*benchEntry](Config{MaxEntries: 2 * benchKeys})
	if err != nil {
		b.Fatal(err)
	}
	es := make([]*benchEntry, benchKeys)
	for i := range es {
		es[i] = &benchEntry{key: i}
		p.Init(&es[i].node, es[i], uint64(i)*0x9e3779b97f4a7c15, 1)
		if _, ok := p.Add(&es[i].node, nil); !ok {
			b.Fatal("not added")
		}
	}
	return p, es
}

// BenchmarkAccess is the policy's share of a hit: recording the access,
// with the drains it triggers, run with GOMAXPROCS goroutines.
func BenchmarkAccess(b *testing.B) {
	p, es := benchPolicy(b)
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(257))
		for pb.Next() {
			p.Access(&es[i&(benchKeys-1)].node)
			i++
		}
	})
}

// BenchmarkRWMutexMap is the reference: a lookup in a map guarded by one
// sync.RWMutex.
func BenchmarkRWMutexMap(b *testing.B) {
	_, es := benchPolicy(b)
	var mu sync.RWMutex
	m := make(map[int]*benchEntry, benchKeys)
	for _, e := range es {
		m[e.key] = e
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(257))
		for pb.Next() {
			mu.RLock()
			e := m[i&(benchKeys-1)]
			mu.RUnlock()
			if e == nil {
				b.Error("missing")
				return
			}
			i++
		}
	})
}

// BenchmarkAccessRecorded is the cost of an access that the buffer takes
// (one CAS), on one goroutine: after every 16 accesses the benchmark empties
// its stripe itself (plain stores, about a nanosecond per access) instead
// of draining it, so no access is dropped and none is applied.
func BenchmarkAccessRecorded(b *testing.B) {
	p, es := benchPolicy(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.Access(&es[(i*257)&(benchKeys-1)].node)
		if i&15 == 15 {
			for r := range p.reads.rings {
				if ring := &p.reads.rings[r]; ring.slots[0] != nil {
					ring.slots = [ringSize]unsafe.Pointer{}
				}
			}
		}
	}
}

// BenchmarkAccessApplied is the whole cost of a hit the policy applies:
// recording it, and its share of the drain (sketch increment, reordering),
// on one goroutine that drains after every 16 accesses, as a miss would.
func BenchmarkAccessApplied(b *testing.B) {
	p, es := benchPolicy(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.Access(&es[(i*257)&(benchKeys-1)].node)
		if i&15 == 15 {
			p.Drain()
		}
	}
}
