package wtinylfu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	// initialWindow is the share of the capacity the admission window gets
	// before the adaptation has seen anything (Caffeine's 1%).
	initialWindow = 0.01

	// protectedShare is the share of the main space its protected segment
	// gets at the start (Caffeine's 80%). The adaptation moves capacity
	// between the window and the protected segment only, so the two
	// together always get adaptableShare of the capacity and probation the
	// rest (about 20%), as in Caffeine.
	protectedShare = 0.80
	adaptableShare = initialWindow + protectedShare*(1-initialWindow)

	// ghostShare sizes each of the two ghosts (see ghost) to this share of
	// the entries in the policy (at least ghostMin hashes; resized when the
	// count moves it by a factor of two): a ghost hit then tells what a
	// window or main space about 10% larger would have served. In the
	// tuning runs of tests/bench (README.md), the sum of the 18 differences
	// with otter was 18.7 points at 5%, 18.2 at 10%, 17.9 at 15%, 17.2 at
	// 25% and 14.9 at 100% (with a step of 1), against 9.9 for Caffeine's
	// sampled climber.
	ghostShare = 0.10
	ghostMin   = 16

	// ghostStep is how far one ghost hit moves the window, in entries: a
	// miss on a rejected candidate grows the window by half an entry's share
	// of the capacity, a miss on a main victim shrinks it as much. In the
	// tuning runs (ghosts at 10%), the sum of the 18 differences with otter
	// was 19.8 points with a step of ¼, 19.5 with ½, 18.2 with 1.
	ghostStep = 0.5

	// hashDoSThreshold is the frequency from which a candidate that lost
	// against its victims is still admitted with probability 1/128
	// (Caffeine's 6 and 1/128): an attacker cannot keep a hot key out by
	// making the victims look as hot.
	hashDoSThreshold = 6
	hashDoSMask      = 127

	// sketchGrowth is how much larger than the entry count a sketch that
	// follows the count (no MaxEntries) is resized to when the count
	// outgrows it: every resize forgets the keys not in the policy, so it
	// should be rare.
	sketchGrowth = 2
)

// Cause says why an entry left the policy.
type Cause uint8

const (
	// CauseEntries is an eviction that keeps the policy within MaxEntries.
	CauseEntries Cause = iota + 1
	// CauseWeight is an eviction that keeps the policy within MaxWeight, or
	// of an entry whose weight grew above MaxEntryWeight.
	CauseWeight
	// CauseRejected is an entry that was not admitted: heavier than
	// MaxEntryWeight when added, or a candidate from the window that lost
	// against the main space's victims.
	CauseRejected
)

// String returns "entries", "weight" or "rejected".
func (c Cause) String() string {
	switch c {
	case CauseEntries:
		return "entries"
	case CauseWeight:
		return "weight"
	case CauseRejected:
		return "rejected"
	}
	return fmt.Sprintf("Cause(%d)", uint8(c))
}

// Eviction is an entry that left the policy during [Policy.Add] or
// [Policy.SetWeight]. The caller must drop it from its map (if the map still
// holds it): the policy has forgotten it.
type Eviction[E any] struct {
	Entry E
	Cause Cause
}

// ErrConfig means a Config is invalid.
var ErrConfig = errors.New("wtinylfu: invalid config")

// Config bounds a Policy. At least one of MaxEntries and MaxWeight is set;
// when both are, exceeding either one evicts.
type Config struct {
	// MaxEntries bounds the number of entries. 0: no bound on the number
	// (MaxWeight must then be set).
	MaxEntries int64
	// MaxWeight bounds the sum of the entries' weights (e.g. bytes).
	// 0: no bound on the weight.
	MaxWeight int64
	// MaxEntryWeight is the heaviest entry the policy admits: Add rejects a
	// heavier one (CauseRejected) without evicting anything, and an entry
	// whose weight grows above it is evicted (CauseWeight).
	// 0: MaxWeight/DefaultEntryShare, or no limit when MaxWeight is 0.
	MaxEntryWeight int64
	// ExpectedEntries sizes the frequency sketch when MaxEntries is 0.
	// 0: the sketch starts small and grows with the number of entries.
	ExpectedEntries int64
	// Doorkeeper puts TinyLFU's Bloom filter in front of the frequency
	// sketch, so that keys seen once since the last aging stay out of the
	// counters. Off by default: it lowered the hit ratios of tests/bench
	// (see the package documentation).
	Doorkeeper bool
}

// DefaultEntryShare is the divisor of MaxWeight that gives the default
// MaxEntryWeight: one entry may take at most a quarter of the weight, so one
// value never pushes out most of the cache.
const DefaultEntryShare = 4

// Validate reports an ErrConfig for an unusable Config.
func (c Config) Validate() error {
	switch {
	case c.MaxEntries < 0, c.MaxWeight < 0, c.MaxEntryWeight < 0, c.ExpectedEntries < 0:
		return fmt.Errorf("%w: negative value in %+v", ErrConfig, c)
	case c.MaxEntries == 0 && c.MaxWeight == 0:
		return fmt.Errorf("%w: MaxEntries or MaxWeight must be set", ErrConfig)
	}
	return nil
}

// Stats are a Policy's counters since it was created.
type Stats struct {
	Entries int64 // entries in the policy now
	Weight  int64 // their total weight

	EvictedEntries uint64 // evictions to stay within MaxEntries
	EvictedWeight  uint64 // evictions to stay within MaxWeight or MaxEntryWeight
	Rejected       uint64 // entries not admitted (CauseRejected)

	// Window is the share of the capacity the admission window has now
	// (0.01 at the start, between 0 and 0.802).
	Window float64
}

// Policy is a W-TinyLFU admission and eviction policy with an adaptive
// window, bounded by entries and by weight (see the package documentation).
// E is the caller's entry type, usually a pointer to the entry the Node is
// embedded in.
//
// Access never blocks; every other method takes the policy's lock, never
// calls back into the caller, and never holds the lock when it returns.
// Policy is safe for concurrent use and must not be copied.
type Policy[E any] struct {
	reads readBuffer
	epoch atomic.Uint32 // bumped by Clear

	mu        sync.Mutex
	window    list[E]
	probation list[E]
	protected list[E]
	sketch    *sketch

	maxEntries, maxWeight int64 // math.MaxInt64 when unbounded
	maxEntryWeight        int64 // math.MaxInt64 when unbounded
	sketchFollowsCount    bool  // no MaxEntries: the sketch grows with the count

	// The window's share of the capacity and the maxima derived from it.
	windowShare         float64
	windowMaxEntries    int64
	windowMaxWeight     int64
	protectedMaxEntries int64
	protectedMaxWeight  int64

	rejectedGhost *ghost // candidates the window lost
	evictedGhost  *ghost // victims the main space lost

	victims []*Node[E] // scratch for evictFromMain, kept to avoid allocating
	rng     uint64

	evictedEntries, evictedWeight, rejected uint64
}

// New returns a Policy bounded as c says, or an ErrConfig.
func New[E any](c Config) (*Policy[E], error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p := &Policy[E]{
		reads:              newReadBuffer(),
		maxEntries:         unbounded(c.MaxEntries),
		maxWeight:          unbounded(c.MaxWeight),
		maxEntryWeight:     unbounded(c.MaxEntryWeight),
		sketchFollowsCount: c.MaxEntries == 0,
		windowShare:        initialWindow,
		rejectedGhost:      newGhost(ghostMin),
		evictedGhost:       newGhost(ghostMin),
		rng:                rand.Uint64() | 1,
	}
	if c.MaxEntryWeight == 0 && c.MaxWeight > 0 {
		p.maxEntryWeight = max(1, c.MaxWeight/DefaultEntryShare)
	}
	capacity := c.MaxEntries
	if capacity == 0 {
		capacity = c.ExpectedEntries
	}
	p.sketch = newSketch(capacity, c.Doorkeeper)
	p.window.init()
	p.probation.init()
	p.protected.init()
	p.applyShare()
	return p, nil
}

func unbounded(v int64) int64 {
	if v == 0 {
		return math.MaxInt64
	}
	return v
}

// Init prepares n for entry e, whose key hashes to hash, with weight w
// (negative counts as 0). Call it before e becomes visible to other
// goroutines, and before [Policy.Add]. The hash feeds the frequency sketch:
// give a well-mixed 64-bit hash of the key (maphash), the same for every
// entry of one key.
func (p *Policy[E]) Init(n *Node[E], e E, hash uint64, w int64) {
	*n = Node[E]{entry: e, hash: hash, weight: max(w, 0), epoch: p.epoch.Load()}
}

// Access records a hit on n. It never blocks, never allocates and never
// applies anything itself: it puts n in a striped buffer (one CAS), which
// the policy applies in a batch under its lock at the next Add, SetWeight,
// Clear or Drain. While its goroutine's stripe is full (16
// accesses since the last drain) an access is dropped (one load): the
// policy then sees a sample of the hits, which moved no hit ratio of
// tests/bench by more than 0.11 points. Accesses to a node that left the
// policy are ignored. n must belong to this policy.
func (p *Policy[E]) Access(n *Node[E]) {
	p.reads.add(unsafe.Pointer(n))
}

// Drain applies the buffered accesses now. Misses do it anyway; calling it
// periodically (e.g. on a clock tick) keeps the recency and frequency of a
// cache that rarely misses up to date.
func (p *Policy[E]) Drain() {
	p.mu.Lock()
	p.drainReads()
	p.mu.Unlock()
}

// Add admits n, prepared by Init, and restores the bounds. It appends to
// evicted every entry that left the policy (n itself when it is rejected)
// and returns it, with whether n is in the policy now.
//
// Insert n's entry into the map before calling Add, and do not hold a lock
// that dropping the evicted entries needs. A node removed (Remove) or
// cleared (Clear, also a Clear after Init) before Add is not added: Add
// returns false and does not list it, since whoever removed it dropped its
// entry. Adding a node twice is harmless.
func (p *Policy[E]) Add(n *Node[E], evicted []Eviction[E]) ([]Eviction[E], bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drainReads()
	if n.queue != queueNew {
		return evicted, n.linked()
	}
	if n.epoch != p.epoch.Load() {
		n.queue = queueDead
		return evicted, false
	}
	p.sketch.increment(n.hash)
	p.adapt(n.hash)
	if n.weight > p.maxEntryWeight {
		n.queue = queueDead
		p.rejected++
		return append(evicted, Eviction[E]{Entry: n.entry, Cause: CauseRejected}), false
	}
	if p.sketchFollowsCount {
		p.growSketch(p.count() + 1)
	}
	n.queue = queueWindow
	if n.weight > p.windowMaxWeight {
		p.window.pushFront(n) // too heavy for the window: first candidate out
	} else {
		p.window.pushBack(n)
	}
	evicted = p.evict(evicted)
	return evicted, n.linked()
}

// Remove drops n from the policy (an invalidation, a delete, an expiry) and
// reports whether it was in it. A node removed before Add is never added.
// Removing twice is harmless.
func (p *Policy[E]) Remove(n *Node[E]) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n.linked() {
		p.unlink(n)
		return true
	}
	n.queue = queueDead
	return false
}

// SetWeight changes n's weight to w (negative counts as 0), restores the
// bounds and appends the entries that left the policy to evicted (n itself
// when w exceeds MaxEntryWeight). For a node not added yet, Add accounts w.
// For a node that left the policy, it does nothing.
func (p *Policy[E]) SetWeight(n *Node[E], w int64, evicted []Eviction[E]) []Eviction[E] {
	w = max(w, 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case n.queue == queueNew:
		n.weight = w
		return evicted
	case !n.linked() || n.weight == w:
		return evicted
	}
	p.drainReads()
	l := p.listOf(n)
	l.weight += w - n.weight
	n.weight = w
	switch {
	case w > p.maxEntryWeight:
		evicted = p.evictNode(n, CauseWeight, evicted)
	case n.queue == queueWindow && w > p.windowMaxWeight:
		p.window.moveToFront(n)
	}
	p.demote()
	return p.evict(evicted)
}

// Clear drops every entry, also those initialised but not added yet (their
// Add will not add them), and returns how many entries and how much weight
// it dropped. The frequency history stays: it is about keys, and keys come
// back after a flush.
func (p *Policy[E]) Clear() (entries, weight int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drainReads()
	p.epoch.Add(1)
	entries, weight = p.count(), p.weight()
	for _, l := range [...]*list[E]{&p.window, &p.probation, &p.protected} {
		for n := l.head(); n != nil; n = l.head() {
			l.remove(n)
			n.queue = queueDead
		}
	}
	return entries, weight
}

// Len returns the number of entries in the policy.
func (p *Policy[E]) Len() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count()
}

// Weight returns the total weight of the entries in the policy.
func (p *Policy[E]) Weight() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.weight()
}

// Stats returns the policy's counters.
func (p *Policy[E]) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		Entries:        p.count(),
		Weight:         p.weight(),
		EvictedEntries: p.evictedEntries,
		EvictedWeight:  p.evictedWeight,
		Rejected:       p.rejected,
		Window:         p.windowShare,
	}
}

func (p *Policy[E]) count() int64 { return p.window.len + p.probation.len + p.protected.len }

func (p *Policy[E]) weight() int64 {
	return p.window.weight + p.probation.weight + p.protected.weight
}

func (p *Policy[E]) over() bool { return p.count() > p.maxEntries || p.weight() > p.maxWeight }

// full reports whether the policy is at least half full by either bound:
// below that nothing is evicted and ghost hits say nothing about the window.
func (p *Policy[E]) full() bool {
	return p.count() >= p.maxEntries/2 || p.weight() >= p.maxWeight/2
}

func (p *Policy[E]) listOf(n *Node[E]) *list[E] {
	switch n.queue {
	case queueWindow:
		return &p.window
	case queueProbation:
		return &p.probation
	default:
		return &p.protected
	}
}

// unlink removes a linked n from its queue for good.
func (p *Policy[E]) unlink(n *Node[E]) {
	p.listOf(n).remove(n)
	n.queue = queueDead
}

// drainReads applies the buffered accesses, then demotes protected's
// overflow. It never evicts.
func (p *Policy[E]) drainReads() {
	for i := range p.reads.rings {
		r := &p.reads.rings[i]
		for j := range r.slots {
			if atomic.LoadPointer(&r.slots[j]) == nil {
				// The end of the filled prefix. A race between a drain and a
				// producer may have left a hole: then the last slot tells
				// whether anything lies beyond it.
				if atomic.LoadPointer(&r.slots[ringSize-1]) == nil {
					break
				}
				continue
			}
			p.onAccess((*Node[E])(atomic.SwapPointer(&r.slots[j], nil)))
		}
	}
	p.demote()
}

// onAccess applies one hit: it counts the key and moves the node to the most
// recently used end of its queue; a hit in probation promotes the node to
// protected (unless it is heavier than protected's share).
func (p *Policy[E]) onAccess(n *Node[E]) {
	p.sketch.increment(n.hash)
	switch n.queue {
	case queueWindow:
		p.window.moveToBack(n)
	case queueProtected:
		p.protected.moveToBack(n)
	case queueProbation:
		if n.weight > p.protectedMaxWeight || p.protectedMaxEntries == 0 {
			p.probation.moveToBack(n)
			return
		}
		p.probation.remove(n)
		n.queue = queueProtected
		p.protected.pushBack(n)
	}
}

// demote moves protected's least recently used nodes to probation while the
// protected segment is over its share.
func (p *Policy[E]) demote() {
	for p.protected.len > p.protectedMaxEntries || p.protected.weight > p.protectedMaxWeight {
		n := p.protected.head()
		if n == nil {
			return
		}
		p.protected.remove(n)
		n.queue = queueProbation
		p.probation.pushBack(n)
	}
}

// evict restores the bounds: the window's overflow moves to probation as
// candidates, which then compete with the main space's victims.
func (p *Policy[E]) evict(evicted []Eviction[E]) []Eviction[E] {
	var first *Node[E]
	for p.window.len > p.windowMaxEntries || p.window.weight > p.windowMaxWeight {
		n := p.window.head()
		if n == nil {
			break
		}
		p.window.remove(n)
		n.queue = queueProbation
		p.probation.pushBack(n)
		if first == nil {
			first = n
		}
	}
	return p.evictFromMain(first, evicted)
}

// evictFromMain evicts until both bounds hold. The candidates are the nodes
// from cand to probation's tail, oldest first; each one stays only if it
// wins its contest against the victims it would push out (see admit).
//
// When the candidates are used up and only the weight is still over, the
// window's entries compete too, least recently used first (Caffeine does so
// whatever the bound): moving one heavy entry out of the window can leave it
// well under its share, and the light entries added next then fit in the
// window without pushing out any candidate while the total is over, so the
// main space's entries would go without a contest. When the count is over,
// or no candidate is left, the least recently used entries go: probation's,
// then protected's, then the window's.
func (p *Policy[E]) evictFromMain(cand *Node[E], evicted []Eviction[E]) []Eviction[E] {
	windowCandidates := false
	for p.over() {
		if cand == nil && !windowCandidates && p.count() <= p.maxEntries {
			windowCandidates = true
			cand = p.window.head()
		}
		if cand == nil {
			v := p.probation.head()
			if v == nil {
				v = p.protected.head()
			}
			if v == nil {
				v = p.window.head()
			}
			if v == nil {
				break // over with no entries: cannot happen
			}
			evicted = p.evictNode(v, p.cause(), evicted)
			continue
		}
		c := cand
		cand = p.listOf(c).after(c)
		if p.admit(c) {
			for _, v := range p.victims {
				evicted = p.evictNode(v, p.cause(), evicted)
			}
		} else {
			p.rejected++
			p.rejectedGhost.add(c.hash)
			p.unlink(c)
			evicted = append(evicted, Eviction[E]{Entry: c.entry, Cause: CauseRejected})
		}
		clear(p.victims)
		p.victims = p.victims[:0]
	}
	return evicted
}

// admit decides whether candidate c (in probation or the window) stays,
// gathering into p.victims the nodes to evict for it: the least recently
// used nodes of probation (ahead of c), then of protected, until they free
// the part of the overflow c answers for (one entry, and up to its own
// weight). The contest is on the estimated frequencies:
//
//   - when the count is over, per entry: c stays if its frequency is higher
//     than the sum of the victims' (with one victim, TinyLFU's contest);
//   - when only the weight is over, per unit of weight: c stays if its
//     frequency divided by its weight is higher than the victims' summed
//     frequency divided by their summed weight. Under a byte budget that
//     keeps the entries serving the most requests per byte (the greedy
//     solution of the knapsack), so a large value cannot push out smaller
//     ones that are together requested more often, and a small one may push
//     out a larger, colder one.
//
// A candidate that lost with a frequency of at least hashDoSThreshold still
// stays with probability 1/128.
func (p *Policy[E]) admit(c *Node[E]) bool {
	var needEntries, needWeight int64
	if p.count() > p.maxEntries {
		needEntries = 1
	}
	if over := p.weight() - p.maxWeight; over > 0 {
		needWeight = min(over, c.weight)
	}
	if needEntries == 0 && needWeight == 0 {
		return true // c is not what the bounds need gone
	}
	var freedEntries, freedWeight int64
	victimFreq := 0
	enough := false
	gather := func(v *Node[E]) {
		if needEntries == 0 && v.weight == 0 {
			return // frees nothing that is needed
		}
		p.victims = append(p.victims, v)
		freedEntries++
		freedWeight += v.weight
		victimFreq += p.sketch.frequency(v.hash)
		enough = freedEntries >= needEntries && freedWeight >= needWeight
	}
	for v := p.probation.head(); !enough && v != nil && v != c; v = p.probation.after(v) {
		gather(v)
	}
	for v := p.protected.head(); !enough && v != nil; v = p.protected.after(v) {
		gather(v)
	}
	if !enough {
		return false // c does not fit even with the whole main space gone
	}
	candFreq := p.sketch.frequency(c.hash)
	var wins bool
	if needEntries > 0 {
		wins = candFreq > victimFreq
	} else {
		// c.weight > 0 here (needWeight > 0), and so is freedWeight.
		wins = float64(candFreq)*float64(freedWeight) > float64(victimFreq)*float64(c.weight)
	}
	return wins || candFreq >= hashDoSThreshold && p.random()&hashDoSMask == 0
}

// cause is the bound an eviction made now restores.
func (p *Policy[E]) cause() Cause {
	if p.count() > p.maxEntries {
		return CauseEntries
	}
	return CauseWeight
}

// evictNode evicts a linked n, remembering its hash in the ghost of the
// side that lost it.
func (p *Policy[E]) evictNode(n *Node[E], cause Cause, evicted []Eviction[E]) []Eviction[E] {
	if n.queue == queueWindow {
		p.rejectedGhost.add(n.hash)
	} else {
		p.evictedGhost.add(n.hash)
	}
	p.unlink(n)
	if cause == CauseEntries {
		p.evictedEntries++
	} else {
		p.evictedWeight++
	}
	return append(evicted, Eviction[E]{Entry: n.entry, Cause: cause})
}

// adapt moves the window on a miss (an Add) of a key a ghost remembers: a
// key the window lost as a rejected candidate would have hit with a larger
// window, one the main space evicted with a larger main space. One ghost
// hit moves ghostStep entries' share of the capacity. Both ghosts follow the
// entry count (ghostShare of it).
func (p *Policy[E]) adapt(h uint64) {
	if size := max(ghostMin, int(ghostShare*float64(p.count()))); size > 2*len(p.rejectedGhost.ring) || 2*size < len(p.rejectedGhost.ring) {
		p.rejectedGhost.resize(size)
		p.evictedGhost.resize(size)
	}
	if !p.full() {
		return
	}
	step := ghostStep / float64(max(p.count(), 1))
	switch {
	case p.rejectedGhost.has(h):
		p.windowShare = min(p.windowShare+step, adaptableShare)
	case p.evictedGhost.has(h):
		p.windowShare = max(p.windowShare-step, 0)
	default:
		return
	}
	p.applyShare()
	p.demote()
}

// applyShare derives the window's and the protected segment's maxima from
// windowShare, for each bound.
func (p *Policy[E]) applyShare() {
	p.windowMaxEntries = share(p.maxEntries, p.windowShare, true)
	p.windowMaxWeight = share(p.maxWeight, p.windowShare, true)
	p.protectedMaxEntries = share(p.maxEntries, adaptableShare-p.windowShare, false)
	p.protectedMaxWeight = share(p.maxWeight, adaptableShare-p.windowShare, false)
}

// share returns f of bound, rounded up for the window (which keeps room for
// at least one unit) and down for the protected segment; unbounded stays
// unbounded.
func share(bound int64, f float64, window bool) int64 {
	if bound == math.MaxInt64 {
		return math.MaxInt64
	}
	v := f * float64(bound)
	if window {
		return max(1, int64(math.Ceil(v)))
	}
	return max(0, int64(v))
}

// random is xorshift64*: only the admission's coin uses it.
func (p *Policy[E]) random() uint64 {
	p.rng ^= p.rng >> 12
	p.rng ^= p.rng << 25
	p.rng ^= p.rng >> 27
	return p.rng * 2685821657736338717
}

// growSketch resizes a sketch that follows the entry count (no MaxEntries)
// to sketchGrowth times the count when the count outgrows it, carrying over
// the estimates of the keys in the policy.
func (p *Policy[E]) growSketch(count int64) {
	if count <= p.sketch.capacity {
		return
	}
	old := p.sketch
	p.sketch = newSketch(sketchGrowth*count, old.door != nil)
	for _, l := range [...]*list[E]{&p.window, &p.probation, &p.protected} {
		for n := l.head(); n != nil; n = l.after(n) {
			for range old.frequency(n.hash) {
				p.sketch.increment(n.hash)
			}
		}
	}
	p.sketch.additions = 0
}
