package wtinylfu

import (
	"fmt"
	"math"
)

// check recounts the policy's queues from scratch and reports the first
// inconsistency: a node in the wrong queue or with broken links, per-queue
// or total counts and weights that differ from the recount, bounds that do
// not hold, or maxima out of range. visit, if not nil, is called with every
// linked node. The caller must not hold p.mu.
func (p *Policy[E]) check(visit func(n *Node[E]) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var total, totalWeight int64
	for _, q := range []struct {
		l     *list[E]
		queue queue
		name  string
	}{{&p.window, queueWindow, "window"}, {&p.probation, queueProbation, "probation"}, {&p.protected, queueProtected, "protected"}} {
		var n, w int64
		prev := &q.l.root
		for x := q.l.root.next; x != &q.l.root; x = x.next {
			if x.queue != q.queue {
				return fmt.Errorf("%s holds a node marked %d", q.name, x.queue)
			}
			if x.prev != prev {
				return fmt.Errorf("%s: broken prev link", q.name)
			}
			if x.weight < 0 {
				return fmt.Errorf("%s: negative weight %d", q.name, x.weight)
			}
			if visit != nil {
				if err := visit(x); err != nil {
					return err
				}
			}
			prev = x
			n++
			w += x.weight
			if n > 1<<40 {
				return fmt.Errorf("%s: cycle", q.name)
			}
		}
		if q.l.root.prev != prev {
			return fmt.Errorf("%s: broken tail link", q.name)
		}
		if n != q.l.len || w != q.l.weight {
			return fmt.Errorf("%s: recount %d entries %d weight, accounted %d and %d", q.name, n, w, q.l.len, q.l.weight)
		}
		total += n
		totalWeight += w
	}
	if total != p.count() || totalWeight != p.weight() {
		return fmt.Errorf("recount %d/%d, accounted %d/%d", total, totalWeight, p.count(), p.weight())
	}
	if total > p.maxEntries {
		return fmt.Errorf("%d entries over the bound %d", total, p.maxEntries)
	}
	if totalWeight > p.maxWeight {
		return fmt.Errorf("weight %d over the bound %d", totalWeight, p.maxWeight)
	}
	if p.windowShare < 0 || p.windowShare > adaptableShare || math.IsNaN(p.windowShare) {
		return fmt.Errorf("window share %v out of [0, %v]", p.windowShare, adaptableShare)
	}
	if p.protected.len > p.protectedMaxEntries || p.protected.weight > p.protectedMaxWeight {
		return fmt.Errorf("protected %d/%d over its maxima %d/%d", p.protected.len, p.protected.weight, p.protectedMaxEntries, p.protectedMaxWeight)
	}
	return nil
}
