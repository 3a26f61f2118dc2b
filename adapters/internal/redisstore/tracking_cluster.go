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
	"slices"
	"strconv"
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

// slotOwner is the node serving a slot, and the lease of that service.
type slotOwner struct {
	node  *clusterNode
	lease *domain.Lease
}

// clusterNode is a master whose reads are tracked.
type clusterNode struct {
	addr string
	tr   *tracker

	watchKey    atomic.Pointer[string] // the key the watch blocks on
	watchCancel context.CancelFunc
	watchDone   chan struct{}
}

// clusterTracking is ports.Tracker for a cluster store.
type clusterTracking struct {
	s       *Store
	cc      *redis.ClusterClient
	node    NodeFactory
	refresh time.Duration

	slots [clusterSlots]atomic.Pointer[slotOwner]

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

func newClusterTracking(s *Store, cc *redis.ClusterClient, node NodeFactory, refresh time.Duration) *clusterTracking {
	return &clusterTracking{
		s: s, cc: cc, node: node, refresh: refresh,
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

// demoted ends n's tracking and revokes its slots at once: n stopped being
// a master.
func (ct *clusterTracking) demoted(n *clusterNode, why string) {
	ct.s.logger.Info("cluster master replaced; its cached values were dropped",
		zap.String("node", n.addr), zap.String("sign", why))
	n.tr.endSession(why, errFailover, domain.ReasonFailover)
	var revoked []*domain.Lease
	for i := range ct.slots {
		if o := ct.slots[i].Load(); o != nil && o.node == n && ct.slots[i].CompareAndSwap(o, nil) && o.lease.Revoke() {
			revoked = append(revoked, o.lease)
		}
	}
	if len(revoked) > 0 {
		ct.s.sinks.Drop(domain.AnyOf(revoked...), domain.ReasonFailover)
	}
	ct.askRefresh()
}

// nodeView is what one node says of itself in CLUSTER NODES.
type nodeView struct {
	addr     string
	master   bool
	slots    []int    // served, stable
	unstable []int    // migrating from it or importing into it
	masters  []string // masters it knows of (itself included)
	answered bool     // it answered
	err      error    // why it did not
}

// refreshOnce reads the layout from every known master and applies it.
func (ct *clusterTracking) refreshOnce(ctx context.Context) error {
	ct.mu.Lock()
	masters := slices.Clone(ct.masters)
	ct.mu.Unlock()
	if len(masters) == 0 {
		seed, err := ct.seedMasters(ctx)
		if err != nil {
			return err
		}
		masters = seed
	}
	views := ct.ask(ctx, masters)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	answered := 0
	for _, v := range views {
		if v.answered {
			answered++
		}
	}
	if answered == 0 {
		// Nobody we knew answered: start again from the cluster client.
		ct.mu.Lock()
		ct.masters = nil
		ct.mu.Unlock()
		return fmt.Errorf("rediscache: cluster tracking: %w: no master answered CLUSTER NODES: %w",
			domain.ErrUnavailable, views[0].err)
	}
	ct.apply(ctx, views)
	return nil
}

// seedMasters asks the cluster client's nodes for the masters.
func (ct *clusterTracking) seedMasters(ctx context.Context) ([]string, error) {
	rctx, cancel := context.WithTimeout(ctx, ct.refreshTimeout())
	defer cancel()
	out, err := ct.cc.ClusterNodes(rctx).Result()
	if err != nil {
		return nil, ct.s.fail(ctx, "cluster nodes", "", err)
	}
	v := parseClusterNodes(out)
	if len(v.masters) == 0 {
		return nil, fmt.Errorf("rediscache: cluster tracking: %w: CLUSTER NODES lists no master", domain.ErrUnavailable)
	}
	return v.masters, nil
}

func (ct *clusterTracking) refreshTimeout() time.Duration {
	return max(ct.refresh, time.Second)
}

// ask runs CLUSTER NODES on every address in parallel.
func (ct *clusterTracking) ask(ctx context.Context, addrs []string) []nodeView {
	rctx, cancel := context.WithTimeout(ctx, ct.refreshTimeout())
	defer cancel()
	views := make([]nodeView, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		c := ct.control(addr)
		wg.Go(func() {
			out, err := c.ClusterNodes(rctx).Result()
			if err != nil {
				views[i] = nodeView{addr: addr, err: err}
				return
			}
			views[i] = parseClusterNodes(out)
			views[i].addr, views[i].answered = addr, true
		})
	}
	wg.Wait()
	return views
}

// control returns the control client of addr, building it if needed.
func (ct *clusterTracking) control(addr string) *redis.Client {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	c, ok := ct.ctl[addr]
	if !ok {
		c = ct.node(addr, nil, 1)
		ct.ctl[addr] = c
	}
	return c
}

// apply installs the layout the answers describe.
func (ct *clusterTracking) apply(ctx context.Context, views []nodeView) {
	var claims [clusterSlots]int8 // 0 none, 1 one claim (claimer), 2 several
	var claimer [clusterSlots]string
	var unstable [clusterSlots]bool
	answered := map[string]bool{}
	known := map[string]bool{}
	var next []string
	for _, v := range views {
		for _, m := range v.masters {
			if !known[m] {
				known[m] = true
				next = append(next, m)
			}
		}
		if !v.answered {
			if !known[v.addr] {
				known[v.addr] = true
				next = append(next, v.addr) // ask again: it may come back
			}
			continue
		}
		answered[v.addr] = v.master
		if !v.master {
			continue
		}
		for _, s := range v.slots {
			if claims[s] < 2 {
				claims[s]++
			}
			claimer[s] = v.addr
		}
		for _, s := range v.unstable {
			unstable[s] = true
		}
	}

	// Nodes: track every master that serves slots; stop the others that
	// answered (a master that does not answer keeps its tracker: its
	// session notices the loss by itself).
	serving := map[string]bool{}
	for s := range clusterSlots {
		if claims[s] == 1 {
			serving[claimer[s]] = true
		}
	}
	ct.mu.Lock()
	ct.masters = next
	var gone []*clusterNode
	for addr, n := range ct.nodes {
		if master, ok := answered[addr]; ok && (!master || !serving[addr]) {
			gone = append(gone, n)
			delete(ct.nodes, addr)
		}
	}
	var started []*clusterNode
	for addr := range serving {
		if _, ok := ct.nodes[addr]; !ok && ct.cancel != nil {
			n := &clusterNode{addr: addr}
			n.tr = newTracker(ct.s, ct.nodeFactory(addr), addr)
			n.tr.onAttempt = ct.notify
			ct.nodes[addr] = n
			started = append(started, n)
		}
	}
	nodes := make(map[string]*clusterNode, len(ct.nodes))
	for addr, n := range ct.nodes {
		nodes[addr] = n
	}
	for addr, c := range ct.ctl {
		if !known[addr] {
			delete(ct.ctl, addr)
			_ = c.Close()
		}
	}
	ct.mu.Unlock()

	// Slots.
	var revoked []*domain.Lease
	for s := range clusterSlots {
		cur := ct.slots[s].Load()
		var want *clusterNode
		switch {
		case unstable[s] || claims[s] > 1:
		case claims[s] == 1:
			want = nodes[claimer[s]]
		case cur != nil:
			if _, ok := answered[cur.node.addr]; !ok && nodes[cur.node.addr] == cur.node {
				want = cur.node // its node did not answer, and nobody else claims it
			}
		}
		if cur != nil && cur.node == want {
			continue
		}
		var o *slotOwner
		if want != nil {
			o = &slotOwner{node: want, lease: domain.NewLease()}
		}
		if !ct.slots[s].CompareAndSwap(cur, o) {
			continue // revoked meanwhile by a read: the next refresh sees to it
		}
		if cur != nil && cur.lease.Revoke() {
			revoked = append(revoked, cur.lease)
		}
	}
	ct.queueDrop(revoked)
	ct.flushPending()

	for _, n := range gone {
		why, reason := "no longer a master", domain.ReasonFailover
		if answered[n.addr] {
			why, reason = "no longer serves slots", domain.ReasonSlotMoved
		}
		ct.s.logger.Info("cluster node "+why+"; its cached values were dropped", zap.String("node", n.addr))
		n.tr.endSession(why, errFailover, reason)
		n.stop()
	}
	for _, n := range started {
		n.tr.start()
	}
	for _, n := range nodes {
		ct.watch(ctx, n)
	}
}

// owns reports whether slot s is n's now.
func (ct *clusterTracking) owns(n *clusterNode, s int) bool {
	o := ct.slots[s].Load()
	return o != nil && o.node == n
}

// watch makes sure a goroutine blocks on a key of one of n's slots, to
// learn at once when n turns replica or that slot moves.
func (ct *clusterTracking) watch(ctx context.Context, n *clusterNode) {
	if k := n.watchKey.Load(); k != nil && ct.owns(n, KeySlot(*k)) {
		return // watching, on a slot n still serves
	}
	key, ok := ct.watchKeyFor(n)
	if !ok {
		return
	}
	n.stopWatch()
	n.watchKey.Store(&key)
	wctx, cancel := context.WithCancel(ctx)
	n.watchCancel, n.watchDone = cancel, make(chan struct{})
	go ct.runWatch(wctx, n, key, n.watchDone)
}

// watchKeyFor returns a key of a slot n serves, unlikely to be anyone's.
func (ct *clusterTracking) watchKeyFor(n *clusterNode) (string, bool) {
	for i := range 1 << 16 {
		key := "rediscache:failover-watch:" + strconv.Itoa(i)
		if ct.owns(n, KeySlot(key)) {
			return key, true
		}
	}
	return "", false
}

// watchBlock is how long one BLPOP of a watch blocks.
const watchBlock = 30 * time.Second

// runWatch blocks on key at n until ctx ends. An UNBLOCKED error means n
// turned replica; MOVED that the slot moved; a failure that n may be gone.
func (ct *clusterTracking) runWatch(ctx context.Context, n *clusterNode, key string, done chan struct{}) {
	defer close(done)
	c := ct.node(n.addr, nil, 1)
	defer c.Close()
	for ctx.Err() == nil {
		err := c.BLPop(ctx, watchBlock, key).Err()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil, errors.Is(err, redis.Nil):
			continue // timed out (or someone pushed to the key)
		case strings.HasPrefix(err.Error(), "UNBLOCKED"):
			ct.demoted(n, "blocked read unblocked: master turned replica")
			return
		case isRedirect(err):
			n.watchKey.Store(nil)
			ct.askRefresh()
			return
		}
		// Down, or refusing: let the refresh judge; try again later.
		ct.askRefresh()
		if !sleep(ctx, ct.refresh) {
			return
		}
	}
}

// stopWatch stops n's watch, if any, and waits for it.
func (n *clusterNode) stopWatch() {
	if n.watchCancel != nil {
		n.watchCancel()
		<-n.watchDone
		n.watchCancel, n.watchDone = nil, nil
	}
}

// stop stops n's watch and tracker.
func (n *clusterNode) stop() {
	n.stopWatch()
	n.tr.stop()
}

// isRedirect reports whether err is a MOVED or ASK reply.
func isRedirect(err error) bool {
	if !isReply(err) {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "MOVED ") || strings.HasPrefix(msg, "ASK ")
}

// waitLive waits until the first refresh after `after` succeeded and every
// master's session is live, or an attempt failed, or ctx ends.
func (ct *clusterTracking) waitLive(ctx context.Context, after uint64) error {
	for {
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

// live reports whether the layout is known and every master's session is
// live.
func (ct *clusterTracking) live() bool {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.cancel == nil || ct.refreshes == 0 || ct.lastErr != nil || len(ct.nodes) == 0 {
		return false
	}
	for _, n := range ct.nodes {
		if n.tr.sess.Load() == nil {
			return false
		}
	}
	return true
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
	if o == nil {
		return domain.Fetched{}, fmt.Errorf("rediscache: fetch %q: %w: slot %d has no stable owner now", key, domain.ErrUnavailable, slot)
	}
	sess := o.node.tr.sess.Load()
	if sess == nil {
		return domain.Fetched{}, fmt.Errorf("rediscache: fetch %q: %w: client tracking on %s is not live", key, domain.ErrUnavailable, o.node.addr)
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

// parseClusterNodes reads a CLUSTER NODES reply: what the node that sent
// it ("myself") says of itself, and every master it knows of.
func parseClusterNodes(out string) nodeView {
	var v nodeView
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		addr, _, _ = strings.Cut(addr, ",")
		flags := strings.Split(f[2], ",")
		master := slices.Contains(flags, "master")
		bad := slices.ContainsFunc(flags, func(s string) bool {
			return s == "fail" || s == "handshake" || s == "noaddr"
		}) || strings.HasPrefix(addr, ":")
		if master && !bad && !slices.Contains(v.masters, addr) {
			v.masters = append(v.masters, addr)
		}
		if !slices.Contains(flags, "myself") {
			continue
		}
		v.master = master
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				// [slot->-id] migrating, [slot-<-id] importing
				num := strings.TrimPrefix(r, "[")
				if i := strings.IndexByte(num, '-'); i > 0 {
					if s, err := strconv.Atoi(num[:i]); err == nil && s >= 0 && s < clusterSlots {
						v.unstable = append(v.unstable, s)
					}
				}
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 0 || b >= clusterSlots || a > b {
				continue
			}
			for s := a; s <= b; s++ {
				v.slots = append(v.slots, s)
			}
		}
	}
	return v
}

// Interface check: a cluster store tracks through clusterTracking.
var _ ports.Tracker = (*Store)(nil)
