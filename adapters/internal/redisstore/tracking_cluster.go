package redisstore

// Client tracking on a Redis Cluster: ports.Tracker over one tracker (the
// session machinery of tracking.go: a listener, tracked connections) per
// master, and a table of who serves each hash slot.
//
// Why a listener per node, RESP2 REDIRECT, rather than RESP3 push on the
// cluster client's connections: a node reports invalidations only to the
// connection that read the key (or its REDIRECT target) on that node, so
// per-node state is needed either way; RESP2 keeps the one transport, with
// its tested loss detection, that standalone and Sentinel use, and keeps
// the host's own pool free of tracking (closing, rotating or timing out a
// host connection costs the caches nothing).
//
// A value fetched from a node is covered by a lease with two parents: the
// lease of the tracked connection it was read on (under the node's
// session) and the lease of the node's ownership of the key's slot. The
// value is dropped when:
//
//   - the node reports the key changed (its listener);
//   - the node's session or the tracked connection ends (only that node's
//     values: the session lease);
//   - the slot leaves the node: a topology refresh (CLUSTER NODES on every
//     master, each reporting its own slots, every TopologyRefresh, and at
//     once after any sign of change) shows it elsewhere, or in migration
//     (MIGRATING/IMPORTING), or a tracked read of it gets MOVED or ASK. Slot
//     leases are revoked at once and the sinks told in one Drop per refresh.
//     Nothing relies on MIGRATE to invalidate: a cached miss whose empty slot
//     moves, and MIGRATE ... COPY, are covered by the slot lease;
//   - the node stops being a master. Each master is watched by a blocking
//     read (BLPOP on a key nobody writes, in one of its slots): Redis
//     unblocks it with an UNBLOCKED error the moment the node turns
//     replica (CLUSTER FAILOVER on its replica), and with MOVED when that
//     slot moves, well before the next refresh. The node's session is
//     ended and its slots revoked on the spot.
//
// A slot with no single stable owner (in migration, claimed by two nodes
// during a failover, or whose owner does not answer and that no one else
// claims) has no entry: Fetch fails with domain.ErrUnavailable for its keys
// and the ClientCache reads them the plain way, through the cluster
// client, which follows MOVED and ASK.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// DefaultTopologyRefresh is how often the cluster tracking asks every
// master which slots it serves. It bounds how long a value whose slot moved
// without any sign reaching this process (no MOVED, ASK or failover seen)
// can be served.
const DefaultTopologyRefresh = time.Second

// DefaultFailoverProbe is how often the cluster tracking asks each replica
// of a master it tracks for its role, to learn of a failover within a few
// milliseconds of the promotion rather than when the old master learns it
// over the cluster bus (6 to 45 ms later on Redis 7.0, measured on
// loopback), meanwhile serving its old values.
const DefaultFailoverProbe = 5 * time.Millisecond

// minKickedRefresh is the least time between two refreshes asked for by a
// sign of change (MOVED, ASK, a watch).
const minKickedRefresh = 5 * time.Millisecond

// NodeFactory builds a go-redis client of one node of a cluster, at addr,
// as ClientFactory does for a single server.
type NodeFactory func(addr string, onConnect func(ctx context.Context, cn *redis.Conn) error, poolSize int) *redis.Client

// WithTopologyRefresh sets how often a cluster store's tracking reads the
// cluster's layout (NewCluster only). A value <= 0 keeps
// DefaultTopologyRefresh.
func WithTopologyRefresh(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.topologyRefresh = d
		}
	})
}

// WithFailoverProbe sets how often a cluster store's tracking asks each
// replica of a tracked master for its role (NewCluster only): 0 keeps
// DefaultFailoverProbe, a negative value turns the probes off (a failover
// is then seen when the old master learns it).
func WithFailoverProbe(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d != 0 {
			o.failoverProbe = d
		}
	})
}

// slotOwner is the node serving a slot, and the lease of that service.
type slotOwner struct {
	node  *clusterNode
	lease *domain.Lease
}

// clusterNode is a master whose reads are tracked.
type clusterNode struct {
	addr string
	tr   *tracker

	// demoted is set when n stopped being a master, and successor, when
	// known, then owns n's slots: reads of them go there even before the
	// table is rewritten.
	demoted   atomic.Bool
	successor atomic.Pointer[slotOwner]

	// plain reads n's keys without tracking while its session is down.
	plainMu sync.Mutex
	plain   *redis.Client
	stopped bool

	// Owned by the loop's goroutine (apply, teardown):
	watchKey    atomic.Pointer[string] // the key the watch blocks on (read by it)
	watchClient *redis.Client          // its connection
	watchCancel context.CancelFunc
	watchDone   chan struct{}
	probes      map[string]*probe // by replica address
}

// clusterTracking is ports.Tracker for a cluster store.
type clusterTracking struct {
	s          *Store
	cc         *redis.ClusterClient
	node       NodeFactory
	refresh    time.Duration
	probeEvery time.Duration // <= 0: no replica probes

	slots [clusterSlots]atomic.Pointer[slotOwner]
	// signs counts the failovers seen by a watch or a probe; a refresh
	// that saw one happen while it ran does not apply what it read.
	signs atomic.Uint64

	kick chan struct{} // asks the loop for a refresh now (capacity 1)

	mu        sync.Mutex
	closed    bool
	cancel    context.CancelFunc // of the running loop; nil when stopped
	done      chan struct{}      // closed when that loop returned
	nodes     map[string]*clusterNode
	ctl       map[string]*redis.Client // clients of the known masters, for CLUSTER NODES
	masters   []string                 // the masters to ask next time
	pending   []*domain.Lease          // revoked slot leases whose Drop is due
	refreshes uint64                   // refreshes done by the running loop
	lastErr   error                    // of the last refresh
	changed   chan struct{}            // closed and replaced after every refresh or attempt
}

func newClusterTracking(s *Store, cc *redis.ClusterClient, node NodeFactory, o options) *clusterTracking {
	return &clusterTracking{
		s: s, cc: cc, node: node, refresh: o.topologyRefresh, probeEvery: o.failoverProbe,
		kick:    make(chan struct{}, 1),
		nodes:   make(map[string]*clusterNode),
		ctl:     make(map[string]*redis.Client),
		changed: make(chan struct{}),
	}
}

// nodeFactory returns the ClientFactory of the node at addr.
func (ct *clusterTracking) nodeFactory(addr string) ClientFactory {
	return func(onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
		return ct.node(addr, onConnect, poolSize)
	}
}

// notify wakes waitLive.
func (ct *clusterTracking) notify() {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	close(ct.changed)
	ct.changed = make(chan struct{})
}

// start makes sure the loop runs; it returns the number of refreshes done.
func (ct *clusterTracking) start() uint64 {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.cancel == nil && !ct.closed {
		ctx, cancel := context.WithCancel(context.Background())
		ct.cancel, ct.done = cancel, make(chan struct{})
		ct.refreshes, ct.lastErr = 0, nil
		go ct.run(ctx, ct.done)
	}
	return ct.refreshes
}

// stopIfIdle stops the loop when no sink is left.
func (ct *clusterTracking) stopIfIdle() {
	if !ct.s.sinks.Active() {
		ct.stop()
	}
}

// stop stops the loop and every node's tracking, and waits for them.
func (ct *clusterTracking) stop() {
	ct.mu.Lock()
	cancel, done := ct.cancel, ct.done
	ct.cancel, ct.done = nil, nil
	ct.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// close stops for good.
func (ct *clusterTracking) close() {
	ct.mu.Lock()
	ct.closed = true
	ct.mu.Unlock()
	ct.stop()
	ct.notify()
}

// run refreshes the layout every ct.refresh, and when kicked, until ctx
// ends; then it stops every node and forgets the layout.
func (ct *clusterTracking) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	defer ct.teardown()
	t := time.NewTicker(ct.refresh)
	defer t.Stop()
	for {
		err := ct.refreshOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		ct.mu.Lock()
		ct.refreshes++
		ct.lastErr = err
		ct.mu.Unlock()
		ct.notify()
		if err != nil {
			ct.s.logger.Warn("cluster layout unknown; keys are read without client-side caching",
				zap.String("endpoint", ct.s.endpoint), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-ct.kick:
			ct.flushPending()
			if !sleep(ctx, minKickedRefresh) {
				return
			}
		}
	}
}

// teardown stops every node's tracking (their sessions' Drops cover their
// values), revokes every slot lease, and closes the control clients.
func (ct *clusterTracking) teardown() {
	ct.mu.Lock()
	nodes := ct.nodes
	ctl := ct.ctl
	ct.nodes, ct.ctl, ct.masters = make(map[string]*clusterNode), make(map[string]*redis.Client), nil
	ct.mu.Unlock()
	var revoked []*domain.Lease
	for i := range ct.slots {
		if o := ct.slots[i].Swap(nil); o != nil && o.lease.Revoke() {
			revoked = append(revoked, o.lease)
		}
	}
	for _, n := range nodes {
		n.stop()
	}
	ct.queueDrop(revoked)
	ct.flushPending()
	for _, c := range ctl {
		_ = c.Close()
	}
}

// askRefresh asks the loop for a refresh now.
func (ct *clusterTracking) askRefresh() {
	select {
	case ct.kick <- struct{}{}:
	default:
	}
}

// queueDrop records revoked slot leases; flushPending tells the sinks.
func (ct *clusterTracking) queueDrop(revoked []*domain.Lease) {
	if len(revoked) == 0 {
		return
	}
	ct.mu.Lock()
	ct.pending = append(ct.pending, revoked...)
	ct.mu.Unlock()
}

// flushPending tells the sinks about the slot leases revoked since the last
// call, in one Drop.
func (ct *clusterTracking) flushPending() {
	ct.mu.Lock()
	pending := ct.pending
	ct.pending = nil
	ct.mu.Unlock()
	if len(pending) > 0 {
		ct.s.sinks.Drop(domain.AnyOf(pending...), domain.ReasonSlotMoved)
	}
}

// revokeSlot revokes o, the owner of slot seen by a read that got MOVED
// or ASK, unless the slot changed hands meanwhile, and asks for a refresh.
func (ct *clusterTracking) revokeSlot(slot int, o *slotOwner) {
	if ct.slots[slot].CompareAndSwap(o, nil) && o.lease.Revoke() {
		ct.queueDrop([]*domain.Lease{o.lease})
	}
	ct.askRefresh()
}

// stopWatch stops n's watch, if any, and waits for it. Closing the client
// ends a BLPOP in progress (go-redis does not abort a read when its ctx is
// cancelled).
func (n *clusterNode) stopWatch() {
	if n.watchCancel != nil {
		n.watchCancel()
		_ = n.watchClient.Close()
		<-n.watchDone
		n.watchCancel, n.watchDone, n.watchClient = nil, nil, nil
	}
}

// stop stops n's watch, probes and tracker, and closes its clients.
func (n *clusterNode) stop() {
	n.stopWatch()
	for addr, p := range n.probes {
		p.stop()
		delete(n.probes, addr)
	}
	n.tr.stop()
	n.plainMu.Lock()
	if n.plain != nil {
		_ = n.plain.Close()
	}
	n.plain, n.stopped = nil, true
	n.plainMu.Unlock()
}

// isRedirect reports whether err is a MOVED or ASK reply.
func isRedirect(err error) bool {
	if !isReply(err) {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "MOVED ") || strings.HasPrefix(msg, "ASK ")
}

// waitLive waits until the layout is known and every master's session is
// live, or the first refresh after `after` failed, or a node's attempt
// failed, or ctx ends.
func (ct *clusterTracking) waitLive(ctx context.Context, after uint64) error {
	for {
		if ct.allLive() {
			return nil
		}
		ct.mu.Lock()
		closed, refreshes, lastErr, ch := ct.closed, ct.refreshes, ct.lastErr, ct.changed
		nodes := make([]*clusterNode, 0, len(ct.nodes))
		for _, n := range ct.nodes {
			nodes = append(nodes, n)
		}
		ct.mu.Unlock()
		switch {
		case closed:
			return wrap("track", "", domain.ErrClosed)
		case refreshes > after && lastErr != nil:
			return lastErr
		case refreshes > after:
			live, err := true, error(nil)
			for _, n := range nodes {
				if n.tr.sess.Load() == nil {
					live = false
					if e := n.tr.failed(); e != nil {
						err = e
					}
				}
			}
			if live {
				return nil
			}
			if err != nil {
				return err
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return wrap("track", "", ctx.Err())
		}
	}
}

// live reports whether the tracking runs with a known layout. A master
// whose session is down does not make it false: Fetch reads its keys
// without tracking meanwhile, from the node the tracking knows serves
// them, where a client that follows the cluster's own (lagging) view
// could read them from an old master.
func (ct *clusterTracking) live() bool {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.live0()
}

// liveSessions counts the masters whose session is live.
func (ct *clusterTracking) liveSessions() int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	n := 0
	for _, nd := range ct.nodes {
		if nd.tr.sess.Load() != nil {
			n++
		}
	}
	return n
}

// allLive reports whether every master's session is live.
func (ct *clusterTracking) allLive() bool {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, n := range ct.nodes {
		if n.tr.sess.Load() == nil {
			return false
		}
	}
	return ct.live0()
}

// live0 is live with ct.mu held.
func (ct *clusterTracking) live0() bool {
	return ct.cancel != nil && ct.refreshes > 0 && ct.lastErr == nil && len(ct.nodes) > 0
}

// backlogged reports whether any master's session has I/O waiting.
func (ct *clusterTracking) backlogged() bool {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, n := range ct.nodes {
		if n.tr.backlogged() {
			return true
		}
	}
	return false
}

// fetch reads key on the master serving its slot.
func (ct *clusterTracking) fetch(ctx context.Context, key string) (domain.Fetched, error) {
	slot := KeySlot(key)
	o := ct.slots[slot].Load()
	for range 4 { // a successor demoted in turn, before the table caught up
		if o == nil || !o.node.demoted.Load() {
			break
		}
		o = o.node.successor.Load()
	}
	if o == nil || o.node.demoted.Load() {
		return domain.Fetched{}, fmt.Errorf("rediscache: fetch %q: %w: slot %d has no stable owner now", key, domain.ErrUnavailable, slot)
	}
	sess := o.node.tr.sess.Load()
	if sess == nil {
		return ct.readPlain(ctx, slot, o, key)
	}
	f, err := sess.fetch(ctx, key)
	if err != nil {
		if isRedirect(err) {
			ct.revokeSlot(slot, o)
			return domain.Fetched{}, fmt.Errorf("rediscache: fetch %q: %w: slot %d moved: %w", key, domain.ErrUnavailable, slot, err)
		}
		return domain.Fetched{}, err
	}
	f.Lease = domain.NewLease(f.Lease, o.lease)
	return f, nil
}

// adoptPlain makes c n's plain-read client, unless n has one or was
// stopped; it reports whether n took it.
func (n *clusterNode) adoptPlain(c *redis.Client) bool {
	n.plainMu.Lock()
	defer n.plainMu.Unlock()
	if n.plain != nil || n.stopped {
		return false
	}
	n.plain = c
	return true
}

// readPlain reads key, without tracking, on the node that serves its
// slot, whose session is not live (just promoted, or lost): the value is
// current, and its nil lease keeps it from being cached.
func (ct *clusterTracking) readPlain(ctx context.Context, slot int, o *slotOwner, key string) (domain.Fetched, error) {
	n := o.node
	n.plainMu.Lock()
	if n.plain == nil && !n.stopped {
		n.plain = ct.node(n.addr, nil, ct.s.tracking.poolSize)
		ct.s.tel.instrument(n.plain)
	}
	c := n.plain
	n.plainMu.Unlock()
	unavailable := func(err error) error {
		return fmt.Errorf("rediscache: fetch %q: %w: client tracking on %s is not live, and reading it there failed: %w",
			key, domain.ErrUnavailable, n.addr, err)
	}
	if c == nil {
		return domain.Fetched{}, unavailable(errors.New("node no longer tracked"))
	}
	var pttl *redis.DurationCmd
	var get *redis.StringCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		pttl = p.PTTL(ctx, key)
		get = p.Get(ctx, key)
		return nil
	})
	switch {
	case errors.Is(err, redis.Nil):
		return domain.Fetched{}, nil
	case isRedirect(err):
		ct.revokeSlot(slot, o)
		return domain.Fetched{}, unavailable(err)
	case isReply(err):
		return domain.Fetched{}, err // WRONGTYPE and the like
	case err != nil:
		return domain.Fetched{}, unavailable(err)
	}
	f := domain.Fetched{Value: []byte(get.Val()), Found: true}
	if d := pttl.Val(); d > 0 {
		f.TTL = d
	}
	return f, nil
}

// Interface check: a cluster store tracks through clusterTracking.
var (
	_ ports.Tracker          = (*Store)(nil)
	_ ports.TrackingSessions = (*Store)(nil)
)
