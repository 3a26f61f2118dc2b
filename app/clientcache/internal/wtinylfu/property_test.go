package wtinylfu

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// harness drives a Policy as the ClientCache's store does (a map of entries
// with the nodes embedded), on one goroutine, and checks after every step
// that the policy and the map agree exactly.
type harness struct {
	t       testing.TB
	p       *Policy[*testEntry]
	cfg     Config
	m       map[int]*testEntry
	gone    map[*testEntry]bool // entries that left the map and the policy
	evicted []Eviction[*testEntry]
}

func newHarness(t testing.TB, c Config) *harness {
	t.Helper()
	return &harness{t: t, p: newTestPolicy(t, c), cfg: c, m: map[int]*testEntry{}, gone: map[*testEntry]bool{}}
}

// get reads k: a hit records an access, a miss adds an entry of weight w.
func (h *harness) get(k int, w int64) {
	if e := h.m[k]; e != nil {
		h.p.Access(&e.node)
		return
	}
	h.add(k, w)
}

// add stores a new entry for k (replacing the old one as an update does).
func (h *harness) add(k int, w int64) {
	h.t.Helper()
	if old := h.m[k]; old != nil {
		h.remove(k)
	}
	e := &testEntry{key: k, weight: max(w, 0)}
	h.p.Init(&e.node, e, hashOf(k), w)
	h.m[k] = e
	var ok bool
	h.evicted, ok = h.p.Add(&e.node, h.evicted[:0])
	listed := h.drop(h.evicted, e)
	if ok == listed {
		h.t.Fatalf("Add(%d) = %v with the entry listed %v", k, ok, listed)
	}
}

// drop takes the evicted entries out of the map, failing on one that had
// left before; it reports whether e was among them.
func (h *harness) drop(evicted []Eviction[*testEntry], e *testEntry) bool {
	h.t.Helper()
	listed := false
	for _, v := range evicted {
		if h.gone[v.Entry] {
			h.t.Fatalf("entry %d evicted (%v) after it left", v.Entry.key, v.Cause)
		}
		if h.m[v.Entry.key] != v.Entry {
			h.t.Fatalf("evicted entry %d is not the map's", v.Entry.key)
		}
		h.gone[v.Entry] = true
		delete(h.m, v.Entry.key)
		listed = listed || v.Entry == e
	}
	return listed
}

func (h *harness) remove(k int) {
	h.t.Helper()
	e := h.m[k]
	if e == nil {
		return
	}
	delete(h.m, k)
	h.gone[e] = true
	if !h.p.Remove(&e.node) {
		h.t.Fatalf("Remove(%d) of an entry in the map reported false", k)
	}
}

func (h *harness) setWeight(k int, w int64) {
	h.t.Helper()
	e := h.m[k]
	if e == nil {
		return
	}
	e.weight = max(w, 0)
	h.evicted = h.p.SetWeight(&e.node, w, h.evicted[:0])
	h.drop(h.evicted, nil)
}

// clear empties the map, then the policy (the order Clear asks for).
// pending, if not nil, is in the map but not added yet.
func (h *harness) clear(pending *testEntry) {
	h.t.Helper()
	var entries, w int64
	for _, e := range h.m {
		h.gone[e] = true
		if e != pending {
			entries++
			w += e.weight
		}
	}
	clear(h.m)
	if n, dw := h.p.Clear(); n != entries || dw != w {
		h.t.Fatalf("Clear = %d, %d; the map held %d, %d", n, dw, entries, w)
	}
}

// raceRemove plays an invalidation that lands between an entry's insertion
// into the map and its Add: Add must refuse it.
func (h *harness) raceRemove(k int) {
	h.t.Helper()
	h.remove(k)
	e := &testEntry{key: k, weight: 1}
	h.p.Init(&e.node, e, hashOf(k), 1)
	h.p.Remove(&e.node) // the invalidation (the map never kept it)
	if ev, ok := h.p.Add(&e.node, nil); ok || len(ev) != 0 {
		h.t.Fatalf("Add after Remove = %v, %v", ev, ok)
	}
}

// raceClear plays a Clear between an entry's Init and its Add.
func (h *harness) raceClear(k int) {
	h.t.Helper()
	h.remove(k)
	e := &testEntry{key: k, weight: 1}
	h.p.Init(&e.node, e, hashOf(k), 1)
	h.m[k] = e
	h.clear(e)
	if ev, ok := h.p.Add(&e.node, nil); ok || len(ev) != 0 {
		h.t.Fatalf("Add after Clear = %v, %v", ev, ok)
	}
}

// checkAll asserts that the policy's nodes are exactly the map's entries,
// with the same weights, and that the policy is consistent.
func (h *harness) checkAll() {
	h.t.Helper()
	seen := 0
	err := h.p.check(func(n *Node[*testEntry]) error {
		e := n.Entry()
		if h.m[e.key] != e {
			return fmt.Errorf("entry %d is in the policy, not in the map", e.key)
		}
		if n.weight != e.weight {
			return fmt.Errorf("entry %d weighs %d in the policy, %d", e.key, n.weight, e.weight)
		}
		seen++
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if seen != len(h.m) {
		h.t.Fatalf("the policy holds %d entries, the map %d", seen, len(h.m))
	}
}

// step applies one random operation chosen by op over a key space of keys.
func (h *harness) step(op, k int, w int64) {
	switch op % 16 {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8:
		h.get(k, w)
	case 9:
		h.add(k, w) // an update: new entry, same key
	case 10, 11:
		h.remove(k)
	case 12:
		h.setWeight(k, w)
	case 13:
		h.p.Drain()
	case 14:
		if op%64 == 14 {
			h.clear(nil)
		} else {
			h.raceRemove(k)
		}
	case 15:
		if op%256 == 15 {
			h.raceClear(k)
		} else {
			h.get(k, w)
		}
	}
}

var propertyConfigs = []Config{
	{MaxEntries: 1},
	{MaxEntries: 7},
	{MaxEntries: 100},
	{MaxWeight: 50},
	{MaxWeight: 1000},
	{MaxWeight: 1000, MaxEntryWeight: 1000},
	{MaxEntries: 40, MaxWeight: 400},
	{MaxEntries: 40, MaxWeight: 400, Doorkeeper: true},
}

// TestProperties runs random interleavings of reads, adds, updates,
// removals, weight changes, drains, clears and the add/remove races against
// every configuration, checking the policy against the map after each step.
func TestProperties(t *testing.T) {
	for i, c := range propertyConfigs {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 7))
			h := newHarness(t, c)
			keys := 300
			for range 20000 {
				// Skewed keys, so that some are hot; weights from 0 to 60.
				k := int(r.ExpFloat64() * float64(keys) / 4)
				h.step(r.IntN(1<<16), k, int64(r.IntN(61)))
				h.checkAll()
			}
		})
	}
}

// FuzzPolicy runs the operations a fuzzer chooses, three bytes a step (op,
// key, weight), checking the policy against the map after each.
func FuzzPolicy(f *testing.F) {
	f.Add([]byte{0, 1, 5, 9, 1, 7, 10, 1, 0, 12, 2, 200, 14, 3, 3})
	f.Add([]byte{15, 0, 0, 14, 5, 5, 78, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 3000 {
			ops = ops[:3000]
		}
		h := newHarness(t, Config{MaxEntries: 8, MaxWeight: 120})
		for i := 0; i+2 < len(ops); i += 3 {
			h.step(int(ops[i]), int(ops[i+1]%32), int64(ops[i+2]))
			h.checkAll()
		}
	})
}

// TestConcurrent runs readers recording hits, writers adding, updating,
// removing and resizing entries, a drainer and a clearer at once, each
// keeping its map changes under the map's lock as a store would, and checks
// the bounds while they run and exact agreement once they stop. Run it with
// -race.
func TestConcurrent(t *testing.T) {
	for _, c := range []Config{{MaxEntries: 64}, {MaxWeight: 2000}, {MaxEntries: 64, MaxWeight: 1500}} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) { runConcurrent(t, c) })
	}
}

// concurrentSteps is the number of operations of each writer.
const concurrentSteps = 2500

func runConcurrent(t *testing.T, c Config) {
	p := newTestPolicy(t, c)
	var mu sync.RWMutex // the map's lock
	m := map[int]*testEntry{}
	maxEntries, maxWeight := unbounded(c.MaxEntries), unbounded(c.MaxWeight)

	// dropIf removes e from the map if it still holds it.
	dropIf := func(e *testEntry) {
		mu.Lock()
		if m[e.key] == e {
			delete(m, e.key)
		}
		mu.Unlock()
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	const keys = 400
	for g := range 2 { // readers
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for !stop.Load() {
				k := int(r.ExpFloat64() * keys / 4)
				mu.RLock()
				e := m[k]
				mu.RUnlock()
				if e != nil {
					p.Access(&e.node)
				}
			}
		})
	}
	var writers sync.WaitGroup
	for g := range 3 {
		writers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			var evicted []Eviction[*testEntry]
			for range concurrentSteps {
				k := int(r.ExpFloat64() * keys / 4)
				switch r.IntN(10) {
				case 0, 1: // invalidation
					mu.Lock()
					e := m[k]
					delete(m, k)
					mu.Unlock()
					if e != nil {
						p.Remove(&e.node)
					}
				case 2: // weight change
					mu.RLock()
					e := m[k]
					mu.RUnlock()
					if e != nil {
						evicted = p.SetWeight(&e.node, int64(r.IntN(100)), evicted[:0])
						for _, v := range evicted {
							dropIf(v.Entry)
						}
					}
				default: // a miss that stores, or an update
					e := &testEntry{key: k}
					mu.Lock()
					old := m[k]
					p.Init(&e.node, e, hashOf(k), int64(r.IntN(100)))
					m[k] = e
					mu.Unlock()
					if old != nil {
						p.Remove(&old.node)
					}
					var ok bool
					evicted, ok = p.Add(&e.node, evicted[:0])
					for _, v := range evicted {
						dropIf(v.Entry)
					}
					if !ok {
						dropIf(e)
					}
				}
				if s := p.Stats(); s.Entries > maxEntries || s.Weight > maxWeight {
					errs <- fmt.Errorf("over a bound: %+v", s)
					return
				}
			}
		})
	}
	wg.Go(func() { // drains and clears
		for i := 0; !stop.Load(); i++ {
			p.Drain()
			if i%200 == 199 {
				// Clear under the map's lock: no insertion can fall between
				// emptying the map and Clear.
				mu.Lock()
				clear(m)
				p.Clear()
				mu.Unlock()
			}
		}
	})
	writers.Wait() // writers end by themselves; then stop the others
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Quiet now: the map and the policy agree exactly.
	seen := 0
	err := p.check(func(n *Node[*testEntry]) error {
		if m[n.Entry().key] != n.Entry() {
			return fmt.Errorf("entry %d is in the policy, not in the map", n.Entry().key)
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(m) {
		t.Fatalf("the policy holds %d entries, the map %d", seen, len(m))
	}
}
