package clientcache

import (
	"time"
)

// Stepping aside for the store's I/O.
//
// Invalidations reach the process on a socket read by one of the store's
// goroutines. Go runs a goroutine the network woke only when a CPU has
// nothing else to run (or when its system monitor, every 10 ms, finds the
// network unpolled and a running goroutine preempted): readers that hit the
// local copy never block, so a process whose CPUs they saturate would
// apply each invalidation up to tens of milliseconds late, and fetch the new
// value as late again. rueidis gets away with it by accident: its hit path
// takes a lock that makes readers park now and then.
//
// So the hit path counts its hits (per stripe, the counter Statistics reads
// anyway) and, about every backlogEvery+1 hits of a stripe, at most once per
// backlogInterval, asks the store whether I/O is waiting on one of its
// sockets (ports.Backlog: a few non-blocking peeks). When some is, the
// channel it returns is published in yielding, and every reader that finds
// it there blocks on it until the store has processed that I/O (or for at
// most maxYield): with every reader blocked, the CPUs go idle, Go polls the
// network at once, and the store's goroutine runs. Readers pay one atomic
// load per hit, and a pause of a few tens of microseconds per invalidation
// while the process is saturated; nothing otherwise.
const (
	backlogEvery    = 1<<8 - 1              // mask of a shard's hit count
	backlogInterval = 25 * time.Microsecond // between two checks
	maxYield        = time.Millisecond      // bound of one wait
)

// checkBacklog asks the store for waiting I/O, at most once per
// backlogInterval, and publishes its channel for the readers to wait on.
func (c *ClientCache) checkBacklog() {
	now := int64(time.Since(c.base))
	last := c.lastBacklog.Load()
	if now-last < int64(backlogInterval) || !c.lastBacklog.CompareAndSwap(last, now) {
		return
	}
	if ch := c.backlog.Backlog(); ch != nil {
		c.yielding.CompareAndSwap(nil, &ch)
	}
}

// yield waits on y, the channel of a waiting backlog, until the store has
// processed it (or maxYield), then clears it.
func (c *ClientCache) yield(y *<-chan struct{}) {
	t := time.NewTimer(maxYield)
	select {
	case <-*y:
	case <-t.C:
	}
	t.Stop()
	c.yielding.CompareAndSwap(y, nil)
}
