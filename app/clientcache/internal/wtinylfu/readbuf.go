package wtinylfu

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

const (
	// ringSize is the number of accesses one stripe of the read buffer holds
	// between two drains (Caffeine's and otter's 16). A power of two.
	ringSize = 16

	// stripesPerProc is the number of stripes per GOMAXPROCS (otter's 4), so
	// that goroutines running at the same time rarely share one.
	stripesPerProc = 4

	// maxStripes bounds the number of stripes whatever GOMAXPROCS is.
	maxStripes = 64
)

// ring is one stripe: a bounded set of node pointers that producers fill
// from slot 0 upwards and the consumer (under the policy lock) empties
// completely. A producer finds the first free slot with a binary search of
// atomic loads and claims it with one CAS; if the ring is full or another
// producer took the slot first, the access is dropped. So recording costs
// one locked instruction, and a full ring costs one load.
//
// Since the consumer empties every slot at once, the filled slots are a
// prefix of the ring (a race between a drain and a producer may leave a
// hole, which only makes the search miss a free slot: the access is
// dropped) and the slot order is the order of the accesses.
type ring struct {
	slots [ringSize]unsafe.Pointer // *Node[E]; nil when free
	_     [64]byte                 // keep rings on separate cache lines
}

// add records p unless the ring is full or contended. It never blocks.
func (r *ring) add(p unsafe.Pointer) {
	if atomic.LoadPointer(&r.slots[ringSize-1]) != nil {
		return // full
	}
	// The first free slot of the prefix: lo is free, every slot below it is
	// taken (as far as the loads saw).
	lo, hi := 0, ringSize-1
	for lo < hi {
		mid := (lo + hi) / 2
		if atomic.LoadPointer(&r.slots[mid]) == nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	atomic.CompareAndSwapPointer(&r.slots[lo], nil, p)
}

// readBuffer is a striped, lossy buffer of accesses (Caffeine's read
// buffer): a hit records its node into the stripe of its goroutine without
// taking any lock, and the policy applies the buffered accesses in batches
// under its lock. An access that finds its stripe full or contended is
// dropped: a hit never waits for the policy.
type readBuffer struct {
	rings []ring
	mask  uint32
}

func newReadBuffer() readBuffer {
	n := min(ceilPow2(uint64(stripesPerProc*runtime.GOMAXPROCS(0))), maxStripes)
	return readBuffer{rings: make([]ring, n), mask: uint32(n - 1)}
}

// add records p in the calling goroutine's stripe.
func (b *readBuffer) add(p unsafe.Pointer) {
	b.rings[Stripe()&b.mask].add(p)
}

// Stripe hashes the address of a variable on the calling goroutine's
// stack (otter's trick for a per-goroutine probe without runtime hooks): a
// goroutine keeps using the same stripe while goroutines running at the same
// time mostly use different ones. The low 11 bits depend on the call depth
// rather than on the goroutine (stacks are at least 2 KiB) and are dropped.
// A stack that moves when it grows merely changes stripe.
func Stripe() uint32 {
	var x byte
	a := uint64(uintptr(unsafe.Pointer(&x))) >> 11
	a *= 0x9e3779b97f4a7c15 // Fibonacci hashing: the high bits mix all of a
	return uint32(a >> 40)
}
