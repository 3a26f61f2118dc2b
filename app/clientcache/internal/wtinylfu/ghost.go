package wtinylfu

// ghost remembers the key hashes of the last entries that left one side of
// the cache (the window's rejected candidates, or the main space's victims),
// in FIFO order: a miss on a key a ghost still holds is a request that the
// side would have served had it been a little larger. It holds hashes only,
// never entries.
//
// The map holds how many times a hash is in the ring. Its size is bounded
// by the ring's, so once warm it inserts and deletes without allocating.
type ghost struct {
	ring []uint64
	pos  int // next slot to write
	n    int // hashes in ring
	set  map[uint64]int32
}

func newGhost(capacity int) *ghost {
	capacity = max(capacity, 1)
	return &ghost{ring: make([]uint64, capacity), set: make(map[uint64]int32, capacity)}
}

// add remembers h, forgetting the oldest hash when the ring is full.
func (g *ghost) add(h uint64) {
	if g.n == len(g.ring) {
		old := g.ring[g.pos]
		if c := g.set[old]; c <= 1 {
			delete(g.set, old)
		} else {
			g.set[old] = c - 1
		}
	} else {
		g.n++
	}
	g.ring[g.pos] = h
	g.pos = (g.pos + 1) % len(g.ring)
	g.set[h]++
}

// has reports whether h is remembered.
func (g *ghost) has(h uint64) bool { return g.set[h] > 0 }

// resize changes the capacity, keeping the most recent hashes.
func (g *ghost) resize(capacity int) {
	ng := newGhost(capacity)
	start := g.pos - g.n
	if start < 0 {
		start += len(g.ring)
	}
	for i := range g.n {
		ng.add(g.ring[(start+i)%len(g.ring)])
	}
	*g = *ng
}
