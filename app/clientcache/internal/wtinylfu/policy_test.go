package wtinylfu

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

type testEntry struct {
	key    int
	weight int64
	node   Node[*testEntry]
}

func newTestPolicy(t testing.TB, c Config) *Policy[*testEntry] {
	t.Helper()
	p, err := New[*testEntry](c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hashOf is the hash the tests give for key k.
func hashOf(k int) uint64 { return spread(uint64(k) + 1) }

func newEntry(p *Policy[*testEntry], k int, w int64) *testEntry {
	e := &testEntry{key: k, weight: w}
	p.Init(&e.node, e, hashOf(k), w)
	return e
}

func mustCheck(t testing.TB, p *Policy[*testEntry]) {
	t.Helper()
	if err := p.check(nil); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{},
		{MaxEntries: -1},
		{MaxWeight: -1},
		{MaxEntries: 10, MaxEntryWeight: -1},
		{MaxWeight: 10, ExpectedEntries: -1},
	} {
		if _, err := New[*testEntry](c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", c, err)
		}
	}
	for _, c := range []Config{{MaxEntries: 1}, {MaxWeight: 1}, {MaxEntries: 5, MaxWeight: 100, MaxEntryWeight: 200, Doorkeeper: true}} {
		if _, err := New[*testEntry](c); err != nil {
			t.Errorf("New(%+v) = %v", c, err)
		}
	}
}

func TestAddEvictsByEntries(t *testing.T) {
	p := newTestPolicy(t, Config{MaxEntries: 100})
	var evicted []Eviction[*testEntry]
	var total int
	for k := range 1000 {
		var ok bool
		evicted, ok = p.Add(&newEntry(p, k, 1).node, evicted[:0])
		if !ok && (len(evicted) == 0 || evicted[len(evicted)-1].Entry.key != k) {
			t.Fatalf("Add(%d) refused without listing it", k)
		}
		for _, v := range evicted {
			if v.Cause != CauseEntries && v.Cause != CauseRejected {
				t.Fatalf("evicted %d for %v", v.Entry.key, v.Cause)
			}
		}
		total += len(evicted)
		mustCheck(t, p)
	}
	if n := p.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	s := p.Stats()
	if s.EvictedEntries+s.Rejected != 900 || total != 900 || s.EvictedWeight != 0 {
		t.Fatalf("stats %+v, %d listed: want 900 evicted or rejected", s, total)
	}
}

func TestAddEvictsByWeight(t *testing.T) {
	h := newHarness(t, Config{MaxWeight: 1000})
	z := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, 2000)
	for range 20000 {
		k := int(z.Uint64())
		h.get(k, int64(1+k%50))
	}
	h.checkAll()
	s := h.p.Stats()
	if s.Weight > 1000 || s.Weight < 900 {
		t.Fatalf("stats %+v: want the weight ≤ 1000 and near it", s)
	}
	if s.EvictedWeight == 0 || s.EvictedEntries != 0 || s.Rejected == 0 {
		t.Fatalf("stats %+v: want weight evictions and rejections only", s)
	}
}

func TestBothBounds(t *testing.T) {
	h := newHarness(t, Config{MaxEntries: 50, MaxWeight: 500})
	z := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 1, 2000)
	for i := range 40000 {
		k := int(z.Uint64())
		w := int64(1) // light: the entry bound binds
		if i >= 20000 {
			w = int64(5 + k%30) // heavy: the weight bound binds
		}
		h.get(k+2000*(i/20000), w)
	}
	h.checkAll()
	s := h.p.Stats()
	if s.EvictedEntries == 0 || s.EvictedWeight == 0 {
		t.Fatalf("stats %+v: want evictions for both bounds", s)
	}
}

func TestAddRejectsHeavierThanTheCap(t *testing.T) {
	p := newTestPolicy(t, Config{MaxWeight: 1000}) // cap 250
	for k := range 10 {
		p.Add(&newEntry(p, k, 100).node, nil)
	}
	before := p.Stats()
	heavy := newEntry(p, 99, 251)
	evicted, ok := p.Add(&heavy.node, nil)
	if ok || len(evicted) != 1 || evicted[0].Entry != heavy || evicted[0].Cause != CauseRejected {
		t.Fatalf("Add(heavy) = %v, %v: want it rejected alone", evicted, ok)
	}
	after := p.Stats()
	if after.Entries != before.Entries || after.Weight != before.Weight || after.Rejected != before.Rejected+1 {
		t.Fatalf("stats %+v after %+v: the rejection changed the contents", after, before)
	}
	// An explicit cap above MaxWeight still never evicts everything for
	// one entry heavier than the whole weight.
	p = newTestPolicy(t, Config{MaxWeight: 100, MaxEntryWeight: math.MaxInt64})
	p.Add(&newEntry(p, 1, 50).node, nil)
	if evicted, ok := p.Add(&newEntry(p, 2, 101).node, nil); ok || len(evicted) != 1 || evicted[0].Entry.key != 2 {
		t.Fatalf("Add(101 > MaxWeight) = %v, %v: want only it rejected", evicted, ok)
	}
	mustCheck(t, p)
	if p.Len() != 1 {
		t.Fatalf("Len = %d, want 1", p.Len())
	}
}

func TestRemove(t *testing.T) {
	p := newTestPolicy(t, Config{MaxEntries: 10, MaxWeight: 100})
	e := newEntry(p, 1, 7)
	if p.Remove(&e.node) {
		t.Fatal("Remove of a node not added reported true")
	}
	if evicted, ok := p.Add(&e.node, nil); ok || len(evicted) != 0 {
		t.Fatalf("Add after Remove = %v, %v: want refused, unlisted", evicted, ok)
	}
	f := newEntry(p, 2, 7)
	if _, ok := p.Add(&f.node, nil); !ok {
		t.Fatal("Add refused")
	}
	if _, ok := p.Add(&f.node, nil); !ok || p.Len() != 1 || p.Weight() != 7 {
		t.Fatal("a second Add of the same node changed the accounting")
	}
	if !p.Remove(&f.node) || p.Remove(&f.node) {
		t.Fatal("Remove of an added node: want true once, then false")
	}
	p.Access(&f.node) // an access to a removed node is ignored
	p.Drain()
	if p.Len() != 0 || p.Weight() != 0 {
		t.Fatalf("Len %d Weight %d after Remove", p.Len(), p.Weight())
	}
	mustCheck(t, p)
}

func TestClear(t *testing.T) {
	p := newTestPolicy(t, Config{MaxEntries: 100})
	for k := range 30 {
		p.Add(&newEntry(p, k, 2).node, nil)
	}
	late := newEntry(p, 1000, 5) // initialised before the Clear, added after
	if n, w := p.Clear(); n != 30 || w != 60 {
		t.Fatalf("Clear = %d, %d, want 30, 60", n, w)
	}
	if evicted, ok := p.Add(&late.node, nil); ok || len(evicted) != 0 {
		t.Fatalf("Add of a node initialised before Clear = %v, %v: want refused", evicted, ok)
	}
	if _, ok := p.Add(&newEntry(p, 1001, 1).node, nil); !ok {
		t.Fatal("Add after Clear refused")
	}
	if p.Len() != 1 {
		t.Fatalf("Len = %d, want 1", p.Len())
	}
	mustCheck(t, p)
}

func TestSetWeight(t *testing.T) {
	p := newTestPolicy(t, Config{MaxWeight: 100})
	pending := newEntry(p, 0, 1)
	if ev := p.SetWeight(&pending.node, 10, nil); len(ev) != 0 {
		t.Fatal("SetWeight before Add evicted")
	}
	p.Add(&pending.node, nil)
	if p.Weight() != 10 {
		t.Fatalf("Weight = %d, want the weight set before Add", p.Weight())
	}
	es := []*testEntry{pending}
	for k := 1; k < 9; k++ {
		e := newEntry(p, k, 10)
		p.Add(&e.node, nil)
		es = append(es, e)
	}
	mustCheck(t, p)
	// Growing one entry over the bound evicts others, by weight.
	ev := p.SetWeight(&es[3].node, 25, nil)
	if p.Weight() > 100 || len(ev) == 0 {
		t.Fatalf("after growing: weight %d, evicted %v", p.Weight(), ev)
	}
	for _, v := range ev {
		if v.Cause != CauseWeight && v.Cause != CauseRejected {
			t.Fatalf("evicted for %v", v.Cause)
		}
	}
	mustCheck(t, p)
	// Growing over MaxEntryWeight (25) evicts the entry itself.
	var victim *testEntry
	for _, e := range es {
		if e.node.linked() {
			victim = e
			break
		}
	}
	ev = p.SetWeight(&victim.node, 26, nil)
	if len(ev) == 0 || ev[0].Entry != victim || ev[0].Cause != CauseWeight || victim.node.linked() {
		t.Fatalf("SetWeight over the cap: evicted %v", ev)
	}
	mustCheck(t, p)
	// Shrinking and negative weights.
	for _, e := range es {
		p.SetWeight(&e.node, -5, nil)
	}
	if p.Weight() != 0 {
		t.Fatalf("Weight = %d after setting every weight to -5 (counts as 0)", p.Weight())
	}
	mustCheck(t, p)
}

// TestFrequentKeysSurviveAScan checks admission: keys read often stay while
// a long run of keys read once passes through.
func TestFrequentKeysSurviveAScan(t *testing.T) {
	p := newTestPolicy(t, Config{MaxEntries: 100})
	hot := make([]*testEntry, 50)
	for i := range hot {
		hot[i] = newEntry(p, i, 1)
		p.Add(&hot[i].node, nil)
	}
	for range 5 {
		for _, e := range hot {
			p.Access(&e.node)
			p.Drain()
		}
	}
	for k := 1000; k < 11000; k++ {
		p.Add(&newEntry(p, k, 1).node, nil)
	}
	kept := 0
	for _, e := range hot {
		if e.node.linked() {
			kept++
		}
	}
	if kept < 48 {
		t.Fatalf("%d of 50 hot keys survived a scan of 10000 keys", kept)
	}
	mustCheck(t, p)
}

func TestAccessAndAddDoNotAllocate(t *testing.T) {
	p := newTestPolicy(t, Config{MaxEntries: 64, MaxWeight: 64 * 10})
	es := make([]*testEntry, 256)
	for i := range es {
		es[i] = newEntry(p, i, int64(1+i%10))
	}
	for _, e := range es[:64] {
		p.Add(&e.node, nil)
	}
	i := 0
	if a := testing.AllocsPerRun(10000, func() {
		p.Access(&es[i%64].node)
		i++
	}); a != 0 {
		t.Errorf("Access allocates %v times", a)
	}
	// A warm miss path: Init, Add with room for the evictions, Drain.
	buf := make([]Eviction[*testEntry], 0, 16)
	k := 1000
	entries := make([]testEntry, 20000)
	if a := testing.AllocsPerRun(10000, func() {
		e := &entries[k%len(entries)]
		e.key = k
		p.Init(&e.node, e, hashOf(k%300), int64(1+k%10))
		buf, _ = p.Add(&e.node, buf[:0])
		p.Drain()
		k++
	}); a != 0 {
		t.Errorf("a warm Add allocates %v times", a)
	}
}

func TestCauseString(t *testing.T) {
	for c, want := range map[Cause]string{CauseEntries: "entries", CauseWeight: "weight", CauseRejected: "rejected", 9: "Cause(9)"} {
		if got := c.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", c, got, want)
		}
	}
}

func TestSketch(t *testing.T) {
	for _, door := range []bool{false, true} {
		s := newSketch(64, door)
		h := hashOf(42)
		if f := s.frequency(h); f != 0 {
			t.Fatalf("door=%v: fresh frequency %d", door, f)
		}
		for i := 1; i <= 5; i++ {
			s.increment(h)
			if f := s.frequency(h); f != i {
				t.Fatalf("door=%v: frequency %d after %d increments", door, f, i)
			}
		}
		for range 100 {
			s.increment(h)
		}
		want := counterMax
		if door {
			want++
		}
		if f := s.frequency(h); f != want {
			t.Fatalf("door=%v: saturated frequency %d, want %d", door, f, want)
		}
		s.reset()
		if f := s.frequency(h); f != counterMax/2 {
			t.Fatalf("door=%v: frequency %d after a reset, want %d", door, f, counterMax/2)
		}
	}
	// Aging happens by itself after sampleSize increments.
	s := newSketch(16, false)
	h := hashOf(1)
	for range 8 {
		s.increment(h)
	}
	for k := 2; s.frequency(h) == 8; k++ {
		s.increment(hashOf(k))
		if uint64(k) > 2*s.sampleSize {
			t.Fatal("the sketch never aged")
		}
	}
	if f := s.frequency(h); f != 4 {
		t.Fatalf("frequency %d after aging, want 4", f)
	}
}

func TestGhost(t *testing.T) {
	g := newGhost(3)
	for _, h := range []uint64{1, 2, 2, 3} {
		g.add(h)
	}
	if g.has(1) || !g.has(2) || !g.has(3) {
		t.Fatal("ghost keeps the wrong hashes")
	}
	g.add(4) // drops one copy of 2
	if !g.has(2) {
		t.Fatal("ghost dropped a hash it still holds once")
	}
	g.resize(2)
	if g.has(2) || !g.has(3) || !g.has(4) {
		t.Fatal("resize kept the wrong hashes")
	}
}

// TestWindowAdapts checks that the window grows on a recency workload (each
// key is read again 1, 5 and 20 steps after its first read, then never:
// only a window holding the recent keys serves those reads) and shrinks
// back on a skewed stable popularity (frequency pays).
func TestWindowAdapts(t *testing.T) {
	h := newHarness(t, Config{MaxEntries: 100})
	for j := range 20000 {
		h.get(j, 1)
		for _, back := range []int{1, 5, 20} {
			if j >= back {
				h.get(j-back, 1)
			}
		}
	}
	grown := h.p.Stats().Window
	if grown <= 0.1 {
		t.Errorf("window share %v after the recency workload, want above 0.1", grown)
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.2, 1, 5000)
	for range 200000 {
		h.get(100000+int(z.Uint64()), 1)
	}
	if shrunk := h.p.Stats().Window; shrunk >= grown/2 {
		t.Errorf("window share %v after Zipf, was %v: want it shrunk", shrunk, grown)
	}
	h.checkAll()
}
