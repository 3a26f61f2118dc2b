package redisstore

// The cluster tracking's knowledge of the layout: which master serves each
// slot (refreshOnce, apply), and the watches that learn of a failover
// before a refresh would (the BLPOP watch on each master, the ROLE probe of
// each replica).

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
)

// nodeView is what one node says in CLUSTER NODES: of itself, and of the
// masters and replicas it knows.
type nodeView struct {
	addr     string
	id       string // its node ID
	master   bool
	epoch    uint64   // its config epoch
	slots    []int    // it serves, stable
	unstable []int    // migrating from it or importing into it
	masters  []string // masters it knows of (itself included)
	// replicas are the healthy replicas it knows of, by their master's
	// node ID.
	replicas map[string][]string
	answered bool  // it answered
	err      error // why it did not
}

// refreshOnce reads the layout from every known master and applies it.
func (ct *clusterTracking) refreshOnce(ctx context.Context) error {
	sign := ct.signs.Load()
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
	var lastErr error
	answered := 0
	for _, v := range views {
		if v.answered {
			answered++
		} else {
			lastErr = v.err
		}
	}
	if answered == 0 {
		// Nobody we knew answered: start again from the cluster client.
		ct.mu.Lock()
		ct.masters = nil
		ct.mu.Unlock()
		return fmt.Errorf("rediscache: cluster tracking: %w: no master answered CLUSTER NODES: %w",
			domain.ErrUnavailable, lastErr)
	}
	ct.apply(ctx, views, sign)
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

// refreshTimeout bounds a refresh's queries.
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

// apply installs the layout the answers describe, unless a sign of change
// (a promotion, a demotion) came since the refresh began at sign: the
// answers may predate it, and another refresh is asked for.
//
// A slot is served by the master that claims it with the highest config
// epoch (Redis' own rule when two claim it during a failover); a tie
// between two nodes, or a migration (MIGRATING or IMPORTING in the view of
// the node itself), leaves it without owner. A master that does not answer
// keeps the slots nobody else claims: its session notices its loss by
// itself.
func (ct *clusterTracking) apply(ctx context.Context, views []nodeView, sign uint64) {
	var (
		owner    [clusterSlots]string
		epoch    [clusterSlots]uint64
		tie      [clusterSlots]bool
		unstable [clusterSlots]bool
	)
	answered := map[string]bool{} // address → answered as a master
	known := map[string]bool{}
	ids := map[string]string{} // address of an answering master → its node ID
	replicas := map[string][]string{}
	var next []string
	for _, v := range views {
		for _, m := range v.masters {
			if !known[m] {
				known[m] = true
				next = append(next, m)
			}
		}
		for id, rs := range v.replicas {
			for _, r := range rs {
				if !slices.Contains(replicas[id], r) {
					replicas[id] = append(replicas[id], r)
				}
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
		ids[v.addr] = v.id
		for _, s := range v.slots {
			switch {
			case owner[s] == "" || v.epoch > epoch[s]:
				owner[s], epoch[s], tie[s] = v.addr, v.epoch, false
			case v.epoch == epoch[s] && owner[s] != v.addr:
				tie[s] = true
			}
		}
		for _, s := range v.unstable {
			unstable[s] = true
		}
	}
	serving := map[string]bool{}
	for s := range clusterSlots {
		if owner[s] != "" && !tie[s] && !unstable[s] {
			serving[owner[s]] = true
		}
	}

	// Nodes: track every master that serves slots; stop those that
	// answered as a replica or without slots.
	ct.mu.Lock()
	if ct.signs.Load() != sign || ct.cancel == nil {
		ct.mu.Unlock()
		ct.askRefresh()
		return
	}
	ct.masters = next
	var gone []*clusterNode
	for addr, n := range ct.nodes {
		// A node seen demoted is done with, even if it answers as a
		// master again (a failover back, or an UNBLOCKED that was not
		// a demotion): a new one is made for it below if it serves.
		if master, ok := answered[addr]; ok && (!master || !serving[addr]) || n.demoted.Load() {
			gone = append(gone, n)
			delete(ct.nodes, addr)
		}
	}
	var started []*clusterNode
	for addr := range serving {
		if _, ok := ct.nodes[addr]; !ok {
			n := ct.newNode(addr)
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

	// Slots. A promotion found meanwhile changes signs before it moves
	// slots, so the loop stops before it could undo that move; and each
	// change is a compare-and-swap of what was loaded.
	var revoked []*domain.Lease
	for s := range clusterSlots {
		cur := ct.slots[s].Load()
		var want *clusterNode
		switch {
		case tie[s] || unstable[s]:
		case owner[s] != "":
			want = nodes[owner[s]]
		case cur != nil:
			if _, ok := answered[cur.node.addr]; !ok && nodes[cur.node.addr] == cur.node {
				want = cur.node // its node did not answer, and nobody else claims it
			}
		}
		if cur != nil && cur.node == want && cur.lease.Valid() {
			continue
		}
		if ct.signs.Load() != sign {
			ct.askRefresh()
			break
		}
		var o *slotOwner
		if want != nil {
			o = &slotOwner{node: want, lease: domain.NewLease()}
		}
		if !ct.slots[s].CompareAndSwap(cur, o) {
			continue // changed meanwhile: the next refresh sees to it
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
	for addr, n := range nodes {
		ct.watch(ctx, n)
		ct.probeReplicas(ctx, n, replicas[ids[addr]])
	}
}

// newNode returns the tracking of the master at addr, not started. Called
// with ct.mu held.
func (ct *clusterTracking) newNode(addr string) *clusterNode {
	n := &clusterNode{addr: addr, probes: map[string]*probe{}}
	n.tr = newTracker(ct.s, ct.nodeFactory(addr), addr)
	n.tr.onAttempt = ct.notify
	return n
}

// owns reports whether slot s is n's now.
func (ct *clusterTracking) owns(n *clusterNode, s int) bool {
	o := ct.slots[s].Load()
	return o != nil && o.node == n
}

// watch makes sure a goroutine blocks on a key of one of n's slots, to
// learn at once when n turns replica or that slot moves. Called on the
// loop's goroutine.
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
	n.watchClient = ct.node(n.addr, nil, 1)
	n.watchCancel, n.watchDone = cancel, make(chan struct{})
	go ct.runWatch(wctx, n, n.watchClient, key, n.watchDone)
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
func (ct *clusterTracking) runWatch(ctx context.Context, n *clusterNode, c *redis.Client, key string, done chan struct{}) {
	defer close(done)
	for ctx.Err() == nil {
		err := c.BLPop(ctx, watchBlock, key).Err()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil, errors.Is(err, redis.Nil):
			continue // timed out (or someone pushed to the key)
		case strings.HasPrefix(err.Error(), "UNBLOCKED"):
			ct.demoted(n, "", "blocked read unblocked: the master turned replica", nil)
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

// probe is the ROLE probe of one replica.
type probe struct {
	client *redis.Client
	cancel context.CancelFunc
	done   chan struct{}
	// handed is set when the replica was promoted and client became
	// its plain-read client: stop must not close it.
	handed atomic.Bool
}

// probeReplicas makes sure each of n's replicas, and only they, are
// probed. Called on the loop's goroutine.
func (ct *clusterTracking) probeReplicas(ctx context.Context, n *clusterNode, replicas []string) {
	if ct.probeEvery <= 0 {
		return
	}
	for addr, p := range n.probes {
		if !slices.Contains(replicas, addr) {
			p.stop()
			delete(n.probes, addr)
		}
	}
	for _, addr := range replicas {
		if _, ok := n.probes[addr]; ok {
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		p := &probe{client: ct.node(addr, nil, 1), cancel: cancel, done: make(chan struct{})}
		n.probes[addr] = p
		go ct.runProbe(pctx, n, addr, p)
	}
}

// runProbe asks the replica at addr its role every probeEvery until it
// answers master, which makes it n's successor, or ctx ends.
func (ct *clusterTracking) runProbe(ctx context.Context, n *clusterNode, addr string, p *probe) {
	defer close(p.done)
	t := time.NewTicker(ct.probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, ct.refreshTimeout())
		role, err := p.client.Do(rctx, "ROLE").Slice()
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// Down or unreachable: ask again after a refresh interval.
			if !sleep(ctx, ct.refresh) {
				return
			}
		case len(role) > 0 && role[0] == "master":
			// The probe's connection serves the new master's reads
			// until its session is live: no dial in the way.
			p.handed.Store(true)
			ct.demoted(n, addr, "replica "+addr+" answers ROLE master", p.client)
			return
		}
	}
}

// stop stops the probe and waits for it.
func (p *probe) stop() {
	p.cancel()
	if !p.handed.Load() {
		_ = p.client.Close()
	}
	<-p.done
}

// demoted takes n's slots from it and ends its tracking, at once: n
// stopped being a master (why says how that was seen). When successor is
// not empty, that replica of n now serves n's slots: they go to it, with a
// new tracking, and values are read from it without tracking until its
// session is live (through plain, a client of it when not nil, which
// demoted then owns); otherwise the slots are left without owner until the
// refresh it asks for. The slots move first, so that no read goes to n
// once its values are dropped.
func (ct *clusterTracking) demoted(n *clusterNode, successor, why string, plain *redis.Client) {
	ct.mu.Lock()
	ct.signs.Add(1) // under mu: apply checks it there
	if ct.cancel == nil {
		ct.mu.Unlock()
		return
	}
	var next *clusterNode
	fresh := false
	if successor != "" {
		if next = ct.nodes[successor]; next == nil {
			next, fresh = ct.newNode(successor), true
			ct.nodes[successor] = next
		}
	}
	ct.mu.Unlock()
	if plain != nil {
		if next == nil || !next.adoptPlain(plain) {
			_ = plain.Close()
		}
	}
	// Reads of n's slots go to the successor from now on (fetch follows
	// n.successor); then n's values are dropped (all of them are under
	// its session's lease); then the table is rewritten, which takes a
	// while (every slot).
	var o2 *slotOwner
	if next != nil {
		// One owner, one lease, for all the slots the successor takes:
		// a failover moves them together. (A read that gets MOVED on
		// one of them revokes that lease, and so the values of all;
		// the refresh then gives each slot a lease of its own.)
		o2 = &slotOwner{node: next, lease: domain.NewLease()}
		n.successor.Store(o2)
	}
	n.demoted.Store(true)
	n.tr.endSession(why, errFailover, domain.ReasonFailover)
	var revoked []*domain.Lease
	for i := range ct.slots {
		o := ct.slots[i].Load()
		if o == nil || o.node != n {
			continue
		}
		if ct.slots[i].CompareAndSwap(o, o2) && o.lease.Revoke() {
			revoked = append(revoked, o.lease)
		}
	}
	if len(revoked) > 0 {
		ct.s.sinks.Drop(domain.AnyOf(revoked...), domain.ReasonFailover)
	}
	if fresh {
		next.tr.start()
	}
	ct.s.logger.Info("cluster master replaced; its cached values were dropped",
		zap.String("node", n.addr), zap.String("successor", successor), zap.String("sign", why))
	ct.askRefresh()
}

// parseClusterNodes reads a CLUSTER NODES reply.
func parseClusterNodes(out string) nodeView {
	v := nodeView{replicas: map[string][]string{}}
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
		switch {
		case bad:
		case master && !slices.Contains(v.masters, addr):
			v.masters = append(v.masters, addr)
		case slices.Contains(flags, "slave") && f[3] != "-":
			v.replicas[f[3]] = append(v.replicas[f[3]], addr)
		}
		if !slices.Contains(flags, "myself") {
			continue
		}
		v.id, v.master = f[0], master
		v.epoch, _ = strconv.ParseUint(f[6], 10, 64)
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
