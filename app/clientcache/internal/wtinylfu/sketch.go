package wtinylfu

import "math/bits"

const (
	// sketchSamplesPerEntry sets the aging period: after
	// sketchSamplesPerEntry × capacity counted events every counter is halved
	// (TinyLFU's "reset"), so the sketch estimates the popularity in a
	// sliding window of about that many accesses. 10 is TinyLFU's and
	// Caffeine's W/C ratio.
	sketchSamplesPerEntry = 10

	// sketchMinCapacity is the smallest capacity a sketch is sized for, so
	// that a tiny cache still gets a few blocks of counters.
	sketchMinCapacity = 16

	// counterMax is the saturation value of a 4-bit counter.
	counterMax = 15

	resetMask = 0x7777_7777_7777_7777 // clears the bit shifted in from the next counter
	oneMask   = 0x1111_1111_1111_1111 // the low bit of every counter
)

// sketch is a count-min sketch of 4-bit counters estimating how often a key
// hash was seen recently (TinyLFU). It is Caffeine's blocked layout: the 16
// counters of a uint64 word, 8 words to a 64-byte block; a key maps to one
// block and to one counter in each of 4 pairs of words of that block, so an
// update or a query touches one cache line. It holds one word (16 counters)
// per entry of capacity, rounded up to a power of two.
//
// Increments are conservative: only the counters equal to the key's current
// minimum grow, which keeps the over-estimate of rare keys down (Estan and
// Varghese) at no extra cost. Every sketchSamplesPerEntry × capacity
// increments all counters are halved, so the history fades.
//
// A doorkeeper (TinyLFU's Bloom filter in front of the counters) keeps keys
// seen once out of the counters: their first sighting only sets the filter's
// bits, and the estimate adds one when the filter holds the key. The filter
// is cleared at every reset.
//
// Not safe for concurrent use: the Policy calls it under its lock.
type sketch struct {
	table      []uint64
	door       []uint64 // doorkeeper bits; nil when disabled
	doorMask   uint64   // bit index mask of door
	blockMask  uint64   // block index mask of table
	additions  uint64   // increments since the last reset
	sampleSize uint64   // increments between two resets
	capacity   int64
}

// newSketch returns a sketch sized for capacity entries.
func newSketch(capacity int64, doorkeeper bool) *sketch {
	s := &sketch{}
	s.resize(capacity, doorkeeper)
	return s
}

// resize sizes the sketch for capacity entries. It forgets every count.
func (s *sketch) resize(capacity int64, doorkeeper bool) {
	capacity = max(capacity, sketchMinCapacity)
	words := ceilPow2(uint64(capacity))
	s.table = make([]uint64, words)
	s.blockMask = words/8 - 1
	s.capacity = capacity
	s.sampleSize = sketchSamplesPerEntry * uint64(capacity)
	s.additions = 0
	s.door = nil
	if doorkeeper {
		// About 8 bits per sample between resets, rounded to a power of two:
		// with 2 probes the false positive rate stays near 5% when every
		// sample is a distinct key.
		doorBits := ceilPow2(8 * s.sampleSize)
		s.door = make([]uint64, doorBits/64)
		s.doorMask = doorBits - 1
	}
}

// ensureCapacity grows the sketch when capacity exceeds what it was sized
// for (a cache bounded only by weight learns its entry count as it fills).
// Growing forgets every count.
func (s *sketch) ensureCapacity(capacity int64) {
	if capacity > s.capacity && ceilPow2(uint64(capacity)) > uint64(len(s.table)) {
		s.resize(capacity, s.door != nil)
	}
}

// spread mixes the caller's hash once more, so that a weak hash still spreads
// over the blocks (the finaliser of splitmix64).
func spread(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// slots returns, for hash h, the words and the bit offsets of its four
// counters: counter i is in word block+2i or block+2i+1.
func (s *sketch) slots(h uint64) (block uint64, counterHash uint64) {
	h = spread(h)
	return (h & s.blockMask) << 3, h >> 32
}

// frequency returns the estimated count of h, 0 to 15 (16 with the
// doorkeeper's extra one).
func (s *sketch) frequency(h uint64) int {
	block, ch := s.slots(h)
	f := uint64(counterMax)
	for i := range uint64(4) {
		x := ch >> (i << 3)
		word := block + (x & 1) + (i << 1)
		shift := ((x >> 1) & 15) << 2
		f = min(f, (s.table[word]>>shift)&0xf)
	}
	if s.door != nil && s.doorHas(h) {
		f++
	}
	return int(f)
}

// increment counts one more event for h and ages the sketch when the
// sample is complete.
func (s *sketch) increment(h uint64) {
	if s.door != nil && !s.doorAdd(h) {
		// First sighting since the last reset: only the doorkeeper knows it.
		s.count()
		return
	}
	block, ch := s.slots(h)
	var words, shifts [4]uint64
	m := uint64(counterMax)
	for i := range uint64(4) {
		x := ch >> (i << 3)
		words[i] = block + (x & 1) + (i << 1)
		shifts[i] = ((x >> 1) & 15) << 2
		m = min(m, (s.table[words[i]]>>shifts[i])&0xf)
	}
	if m == counterMax {
		return
	}
	for i := range 4 {
		if (s.table[words[i]]>>shifts[i])&0xf == m {
			s.table[words[i]] += 1 << shifts[i]
		}
	}
	s.count()
}

// count advances the sample and halves every counter when it is complete.
func (s *sketch) count() {
	s.additions++
	if s.additions >= s.sampleSize {
		s.reset()
	}
}

// reset halves every counter (and clears the doorkeeper). The number of
// additions left is halved as well, minus the halves lost to rounding
// (Caffeine's correction: each odd counter loses half an event).
func (s *sketch) reset() {
	odd := 0
	for i, w := range s.table {
		odd += bits.OnesCount64(w & oneMask)
		s.table[i] = (w >> 1) & resetMask
	}
	s.additions = (s.additions - uint64(odd)/4) / 2
	clear(s.door)
}

// doorProbes returns the two bit positions of h in the doorkeeper.
func (s *sketch) doorProbes(h uint64) (uint64, uint64) {
	h = spread(h ^ 0x9e3779b97f4a7c15)
	return h & s.doorMask, (h >> 32) & s.doorMask
}

func (s *sketch) doorHas(h uint64) bool {
	a, b := s.doorProbes(h)
	return s.door[a>>6]&(1<<(a&63)) != 0 && s.door[b>>6]&(1<<(b&63)) != 0
}

// doorAdd sets h's bits and reports whether they were all set already.
func (s *sketch) doorAdd(h uint64) bool {
	a, b := s.doorProbes(h)
	had := s.door[a>>6]&(1<<(a&63)) != 0 && s.door[b>>6]&(1<<(b&63)) != 0
	s.door[a>>6] |= 1 << (a & 63)
	s.door[b>>6] |= 1 << (b & 63)
	return had
}

// ceilPow2 returns the smallest power of two ≥ x (and ≥ 8: one block).
func ceilPow2(x uint64) uint64 {
	if x <= 8 {
		return 8
	}
	return 1 << bits.Len64(x-1)
}
