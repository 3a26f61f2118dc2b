package clientcache

import (
	"context"
	"sync"
	"time"
)

// The clock of the hit path.
//
// A hit on an entry that only LocalTTL bounds does not read the clock:
// time.Now costs as much as the rest of a hit (about 55 ns on a VM with
// kvm-clock, against about 60 ns for the lookup). It compares the entry's
// expiry with coarse instead, which a ticker goroutine (started by Start,
// ended by Stop) keeps at "now + two ticks": an upper bound of the clock
// until the next tick is due, with one tick of slack. So such a hit never
// serves an entry past its LocalTTL unless the ticker is starved for more
// than a tick, and LocalTTL is a backstop measured in minutes. An entry
// within two ticks of its expiry goes to the slow path, which reads the
// clock and decides exactly.
//
// An entry whose expiry comes from its key's TTL in the backend (volatile)
// is checked against the exact clock on every hit: a local copy never
// outlives its key. So is every entry under WithClock.

// Bounds of the tick, which is LocalTTL/1000 within them.
const (
	minTick = time.Millisecond
	maxTick = time.Second
)

// clockTick is the period of runClock for a LocalTTL of ttl.
func clockTick(ttl time.Duration) time.Duration {
	return min(max(ttl/1000, minTick), maxTick)
}

// advanceClock sets coarse to an upper bound of now() until the next tick is
// due, with one tick of slack.
func (c *ClientCache) advanceClock() {
	c.coarse.Store(c.now() + 2*int64(c.tick))
}

// runClock advances coarse every tick until ctx ends, then calls wg.Done.
func (c *ClientCache) runClock(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.advanceClock()
		}
	}
}
