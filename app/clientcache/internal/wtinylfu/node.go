package wtinylfu

// queue says where a Node is. It only moves forward from queueNew to a
// linked queue and from any state to queueDead, which is final.
type queue uint8

const (
	queueNew       queue = iota // initialised, not added yet
	queueWindow                 // in the admission window (LRU)
	queueProbation              // in the main space, probation segment
	queueProtected              // in the main space, protected segment
	queueDead                   // removed, evicted, rejected or cleared: final
)

// Node is the policy's part of one cache entry. Embed it in the entry (or
// point to it from the entry) and hand it to [Policy.Init] before the entry
// becomes visible to readers; afterwards only the Policy writes it, under its
// lock. A Node must not be copied after Init and is used once: after it has
// left the policy (removed, evicted, rejected or cleared) it stays dead, and
// a new entry needs a new Node.
//
// The zero value is ready for Init.
type Node[E any] struct {
	prev, next *Node[E]
	entry      E
	hash       uint64
	weight     int64  // ≥ 0; counted in the totals while linked
	epoch      uint32 // the policy's clear epoch at Init
	queue      queue
}

// Entry returns the entry given to [Policy.Init]: the caller's back pointer.
func (n *Node[E]) Entry() E { return n.entry }

// linked reports whether n is in one of the three queues.
func (n *Node[E]) linked() bool {
	return n.queue == queueWindow || n.queue == queueProbation || n.queue == queueProtected
}

// list is an intrusive, circular doubly linked list with a sentinel, keeping
// the number and the total weight of its nodes. Its head (root.next) is the
// least recently used node, its tail (root.prev) the most recently used.
type list[E any] struct {
	root   Node[E]
	len    int64
	weight int64
}

func (l *list[E]) init() {
	l.root.next = &l.root
	l.root.prev = &l.root
}

// head returns the least recently used node, or nil.
func (l *list[E]) head() *Node[E] {
	if l.root.next == &l.root {
		return nil
	}
	return l.root.next
}

// after returns the node after n (towards the tail), or nil at the tail.
func (l *list[E]) after(n *Node[E]) *Node[E] {
	if n.next == &l.root {
		return nil
	}
	return n.next
}

// link puts n before at, without accounting it.
func link[E any](n, at *Node[E]) {
	n.prev = at.prev
	n.next = at
	at.prev.next = n
	at.prev = n
}

// unlinkRaw takes n out of its list, without accounting it.
func unlinkRaw[E any](n *Node[E]) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
}

func (l *list[E]) insertBefore(n, at *Node[E]) {
	link(n, at)
	l.len++
	l.weight += n.weight
}

// pushBack links n as the most recently used node.
func (l *list[E]) pushBack(n *Node[E]) { l.insertBefore(n, &l.root) }

// pushFront links n as the least recently used node.
func (l *list[E]) pushFront(n *Node[E]) { l.insertBefore(n, l.root.next) }

// remove unlinks n, which must be in l.
func (l *list[E]) remove(n *Node[E]) {
	unlinkRaw(n)
	l.len--
	l.weight -= n.weight
}

// moveToBack makes n, which must be in l, the most recently used node.
func (l *list[E]) moveToBack(n *Node[E]) {
	if l.root.prev != n {
		unlinkRaw(n)
		link(n, &l.root)
	}
}

// moveToFront makes n, which must be in l, the least recently used node.
func (l *list[E]) moveToFront(n *Node[E]) {
	if l.root.next != n {
		unlinkRaw(n)
		link(n, l.root.next)
	}
}
