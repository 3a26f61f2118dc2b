package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Slots is the number of hash slots of a Redis Cluster.
const Slots = 16384

const (
	// cliBinary creates the cluster and adds nodes to it.
	cliBinary = "redis-cli"
	// defaultMasters and the default of one replica per master shape the
	// cluster StartCluster starts without WithMasters / WithReplicas.
	defaultMasters = 3
	// defaultNodeTimeout is the nodes' cluster-node-timeout: a master that
	// does not answer for that long is failed over, about 2.5 s after a
	// kill -9 on loopback.
	defaultNodeTimeout = time.Second
	// clusterTimeout bounds the wait for the cluster to settle: at start,
	// after a failover, a restart, a new node or a slot move.
	clusterTimeout = 30 * time.Second
	// cliTimeout bounds one run of redis-cli.
	cliTimeout = time.Minute
)

// WithMasters sets how many masters StartCluster starts (default 3, at
// least 3: redis-cli refuses to create a smaller cluster).
func WithMasters(n int) Option {
	return func(o *serverOptions) { o.masters = max(n, 3) }
}

// WithNodeTimeout sets the nodes' cluster-node-timeout (default 1 s): how
// long a master must be unreachable before its replica takes over.
func WithNodeTimeout(d time.Duration) Option {
	return func(o *serverOptions) { o.nodeTimeout = d }
}

// clusterNode makes StartServer start a cluster node with a bus port of
// its own.
func clusterNode() Option {
	return func(o *serverOptions) { o.clusterNode = true }
}

// Cluster is a Redis Cluster started by StartCluster: masters that share the
// 16384 hash slots, each with its replicas. Which node is a master changes
// with failovers and which master owns a slot with slot moves; the methods
// ask the nodes. A node is live while its process runs (Server.Kill and
// Server.Stop end it). The methods are safe for concurrent use.
type Cluster struct {
	cli      string
	password string
	nodeOpts []Option // every node's options, for AddMaster

	mu    sync.Mutex
	nodes []*Server // every node started, in start order
}

// StartCluster starts a Redis Cluster on free loopback ports: three masters
// (WithMasters) with one replica each (WithReplicas sets the replicas per
// master), each node in its own t.TempDir with its cluster config file
// there, created with redis-cli --cluster create. It waits until every node
// reports cluster_state:ok, all nodes agree on the slots and the roles, and
// every replica is in sync with its master. The nodes run with
// cluster-node-timeout 1 s (WithNodeTimeout), replica-validity-factor 0 (a
// replica can always take over) and no replica migration, so the topology
// only changes when a test changes it.
//
// WithModule loads RediSearch on every node; WithPassword protects every
// node (and sets masterauth, so any node can become a replica); WithArgs
// applies to every node. Every node is stopped by t.Cleanup. StartCluster
// fails t when redis-server or redis-cli is missing (naming the install
// command) or when the cluster does not come up.
func StartCluster(t TB, opts ...Option) *Cluster {
	t.Helper()
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.replicaOf != "" {
		t.Fatalf("redistest: WithReplicaOf does not apply to StartCluster")
	}
	masters, replicas := o.masters, o.replicas
	if masters == 0 {
		masters = defaultMasters
	}
	switch {
	case replicas < 0:
		replicas = 0
	case replicas == 0:
		replicas = 1
	}
	nodeTimeout := o.nodeTimeout
	if nodeTimeout <= 0 {
		nodeTimeout = defaultNodeTimeout
	}
	cli, err := lookBinary(cliBinary)
	if err != nil {
		t.Fatalf("%v", err)
	}

	c := &Cluster{cli: cli, password: o.password}
	c.nodeOpts = []Option{clusterNode(), WithArgs(
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf", // in the node's --dir
		"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
		"--cluster-replica-validity-factor", "0",
		"--cluster-allow-replica-migration", "no",
		// Full resynchronisations start at once, and a stopped master
		// does not wait for lagging replicas.
		"--repl-diskless-sync-delay", "0",
		"--shutdown-timeout", "0",
	)}
	if o.module {
		c.nodeOpts = append(c.nodeOpts, WithModule())
	}
	if o.password != "" {
		c.nodeOpts = append(c.nodeOpts, WithPassword(o.password), WithArgs("--masterauth", o.password))
	}
	if len(o.args) > 0 {
		c.nodeOpts = append(c.nodeOpts, WithArgs(o.args...))
	}

	addrs := make([]string, 0, masters*(1+replicas))
	for range masters * (1 + replicas) {
		n := StartServer(t, c.nodeOpts...)
		c.nodes = append(c.nodes, n)
		addrs = append(addrs, n.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := c.runCLI(args...); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s%s", err, out, c.logTails())
	}
	c.WaitSettled(t)
	t.Logf("redistest: cluster up: masters %v, replicas %v", addrsOf(c.Masters()), addrsOf(c.Replicas()))
	return c
}

// Nodes returns every node started, live or not, in start order (those of
// AddMaster last).
func (c *Cluster) Nodes() []*Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

// Addrs returns the "127.0.0.1:port" address of every node, as the seed
// list of a cluster client.
func (c *Cluster) Addrs() []string { return addrsOf(c.Nodes()) }

// Masters returns the live masters that own slots, by their first slot.
func (c *Cluster) Masters() []*Server {
	v, _ := c.view()
	var out []*Server
	for _, e := range v.bySlot() {
		if n := c.node(e.addr); n != nil && n.running() {
			out = append(out, n)
		}
	}
	return out
}

// Replicas returns the live nodes that are replicas.
func (c *Cluster) Replicas() []*Server {
	v, _ := c.view()
	var out []*Server
	for _, n := range c.Nodes() {
		if e, ok := v.byAddr(n.Addr()); ok && n.running() && e.master != "-" {
			out = append(out, n)
		}
	}
	return out
}

// ReplicaOf returns a live replica of master, or nil.
func (c *Cluster) ReplicaOf(master *Server) *Server {
	v, _ := c.view()
	m, ok := v.byAddr(master.Addr())
	if !ok {
		return nil
	}
	for _, n := range c.Nodes() {
		if e, ok := v.byAddr(n.Addr()); ok && n.running() && e.master == m.id {
			return n
		}
	}
	return nil
}

// Slot returns the hash slot of key (CLUSTER KEYSLOT), or -1 when no node
// answers.
func (c *Cluster) Slot(key string) int {
	for _, n := range c.live() {
		if reply, err := n.Do("CLUSTER", "KEYSLOT", key); err == nil {
			if slot, err := strconv.Atoi(reply); err == nil {
				return slot
			}
		}
	}
	return -1
}

// SlotOwner returns the master that owns slot, as the live nodes see it, or
// nil.
func (c *Cluster) SlotOwner(slot int) *Server {
	v, _ := c.view()
	if e, ok := v.owner(slot); ok {
		return c.node(e.addr)
	}
	return nil
}

// MasterFor returns the master that owns the slot of key, or nil.
func (c *Cluster) MasterFor(key string) *Server { return c.SlotOwner(c.Slot(key)) }

// SlotsOf returns the slots master owns, in order.
func (c *Cluster) SlotsOf(master *Server) []int {
	v, _ := c.view()
	e, ok := v.byAddr(master.Addr())
	if !ok {
		return nil
	}
	return e.slotList()
}

// NodeID returns the cluster node ID of n (CLUSTER MYID), or "" when n
// does not answer.
func (c *Cluster) NodeID(n *Server) string {
	id, err := n.Do("CLUSTER", "MYID")
	if err != nil {
		return ""
	}
	return id
}

// FlushAll empties every live master (FLUSHALL; the replicas follow).
func (c *Cluster) FlushAll() error {
	masters := c.Masters()
	if len(masters) == 0 {
		return errors.New("redistest: no live master")
	}
	var errs []error
	for _, m := range masters {
		if _, err := m.Do("FLUSHALL"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WaitSettled waits until the cluster is whole again: every live node
// reports cluster_state:ok with every slot served, all live nodes agree on
// the roles and on the owner of every slot, no slot is being migrated,
// every node that is not running is flagged failed by the others (and owns
// no slot: its replica took over), and every live replica is in sync with
// its master. After a kill -9 of a master this waits for the failover. It
// fails t after 30 s.
func (c *Cluster) WaitSettled(t TB) {
	t.Helper()
	if err := waitFor(clusterTimeout, c.checkSettled); err != nil {
		t.Fatalf("redistest: cluster did not settle within %v: %v%s", clusterTimeout, err, c.logTails())
	}
}

// Restart starts n again (see Server.Restart) with its cluster config
// file, so it rejoins with its node ID (a former master whose replica took
// over comes back as that replica's replica, and resynchronises), and waits
// until the cluster has settled.
func (c *Cluster) Restart(t TB, n *Server) {
	t.Helper()
	n.Restart(t)
	c.WaitSettled(t)
}

// Failover sends CLUSTER FAILOVER to replica (a graceful failover: the
// replica catches up with its master, then takes over its slots) and waits
// until every node sees replica as the master and the old master as its
// replica, in sync. It fails t when replica is not a replica or the
// failover does not complete within 30 s.
func (c *Cluster) Failover(t TB, replica *Server) {
	t.Helper()
	if reply, err := replica.Do("CLUSTER", "FAILOVER"); err != nil || reply != "OK" {
		t.Fatalf("redistest: CLUSTER FAILOVER on %s: %q %v", replica.Addr(), reply, err)
	}
	err := waitFor(clusterTimeout, func() error {
		if role, err := replica.Do("ROLE"); err != nil || !strings.HasPrefix(role, "master\n") {
			return fmt.Errorf("%s is not a master yet (ROLE %q, %v)", replica.Addr(), firstLine(role), err)
		}
		return c.checkSettled()
	})
	if err != nil {
		t.Fatalf("redistest: CLUSTER FAILOVER on %s did not complete within %v: %v%s", replica.Addr(), clusterTimeout, err, c.logTails())
	}
	t.Logf("redistest: cluster failover: %s is a master", replica.Addr())
}

// AddMaster starts a new node with the cluster's options, adds it as a
// master without slots (redis-cli --cluster add-node) and waits until every
// node knows it. Move slots to it with MoveSlots.
func (c *Cluster) AddMaster(t TB) *Server {
	t.Helper()
	live := c.live()
	if len(live) == 0 {
		t.Fatalf("redistest: add-node: no live node")
	}
	n := StartServer(t, c.nodeOpts...)
	if out, err := c.runCLI("--cluster", "add-node", n.Addr(), live[0].Addr()); err != nil {
		t.Fatalf("redistest: redis-cli --cluster add-node %s: %v\n%s", n.Addr(), err, out)
	}
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	c.WaitSettled(t)
	t.Logf("redistest: cluster: added master %s", n.Addr())
	return n
}

// MoveSlots moves slots to the master to, one slot at a time, the way
// redis-cli --cluster reshard does: CLUSTER SETSLOT IMPORTING on to and
// MIGRATING on the owner, MIGRATE of the slot's keys in batches, then
// CLUSTER SETSLOT NODE on to, the old owner and every other master. It
// waits until every node sees the new owners. Slots to already owns are
// left alone. It fails t on any error.
func (c *Cluster) MoveSlots(t TB, to *Server, slots ...int) {
	t.Helper()
	toID := c.NodeID(to)
	if toID == "" {
		t.Fatalf("redistest: move slots: %s does not answer", to.Addr())
	}
	for _, slot := range slots {
		if err := c.moveSlot(slot, to, toID); err != nil {
			t.Fatalf("redistest: moving slot %d to %s: %v", slot, to.Addr(), err)
		}
	}
	c.WaitSlotOwner(t, to, slots...)
}

// moveSlot moves one slot to the master to (whose node ID is toID).
func (c *Cluster) moveSlot(slot int, to *Server, toID string) error {
	from := c.SlotOwner(slot)
	switch {
	case from == nil:
		return errors.New("no owner")
	case from == to:
		return nil
	}
	fromID := c.NodeID(from)
	s := strconv.Itoa(slot)
	if _, err := to.Do("CLUSTER", "SETSLOT", s, "IMPORTING", fromID); err != nil {
		return err
	}
	if _, err := from.Do("CLUSTER", "SETSLOT", s, "MIGRATING", toID); err != nil {
		return err
	}
	for {
		keys, err := doStrings(from.Addr(), c.password, time.Minute, "CLUSTER", "GETKEYSINSLOT", s, "100")
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			break
		}
		args := []string{"MIGRATE", "127.0.0.1", strconv.Itoa(to.Port()), "", "0", "10000"}
		if c.password != "" {
			args = append(args, "AUTH", c.password)
		}
		args = append(append(args, "KEYS"), keys...)
		if _, err := from.Do(args...); err != nil {
			return err
		}
	}
	// The new owner first, then the old one, then everyone else (as
	// redis-cli does), so that no node is left thinking the slot is open.
	order := []*Server{to, from}
	for _, m := range c.Masters() {
		if m != to && m != from {
			order = append(order, m)
		}
	}
	for _, n := range order {
		if _, err := n.Do("CLUSTER", "SETSLOT", s, "NODE", toID); err != nil {
			return fmt.Errorf("%s: %w", n.Addr(), err)
		}
	}
	return nil
}

// MoveSlotCopy moves slot to the master to the way a tool that copies
// does: CLUSTER SETSLOT IMPORTING on to and MIGRATING on the owner, one
// MIGRATE ... COPY REPLACE of the slot's keys (the owner keeps its
// copies), then CLUSTER SETSLOT NODE on to and every other master but the
// old owner, which refuses it while it holds keys of the slot: it learns
// the new owner over the cluster bus, and then drops its copies by itself
// (Redis 7.0 sends no invalidation for them); then SETSLOT NODE closes its
// MIGRATING state. It waits until every node sees the new owner, and fails
// t on any error.
func (c *Cluster) MoveSlotCopy(t TB, to *Server, slot int) {
	t.Helper()
	from, toID := c.SlotOwner(slot), c.NodeID(to)
	if from == nil || from == to || toID == "" {
		t.Fatalf("redistest: move slot %d by copy to %s: owner %v", slot, to.Addr(), from)
	}
	s := strconv.Itoa(slot)
	fail := func(err error) {
		t.Helper()
		t.Fatalf("redistest: moving slot %d by copy to %s: %v", slot, to.Addr(), err)
	}
	if _, err := to.Do("CLUSTER", "SETSLOT", s, "IMPORTING", c.NodeID(from)); err != nil {
		fail(err)
	}
	if _, err := from.Do("CLUSTER", "SETSLOT", s, "MIGRATING", toID); err != nil {
		fail(err)
	}
	keys, err := doStrings(from.Addr(), c.password, time.Minute, "CLUSTER", "GETKEYSINSLOT", s, "1000")
	if err != nil {
		fail(err)
	}
	if len(keys) > 0 {
		args := []string{"MIGRATE", "127.0.0.1", strconv.Itoa(to.Port()), "", "0", "10000", "COPY", "REPLACE"}
		if c.password != "" {
			args = append(args, "AUTH", c.password)
		}
		if _, err := from.Do(append(append(args, "KEYS"), keys...)...); err != nil {
			fail(err)
		}
	}
	order := []*Server{to}
	for _, m := range c.Masters() {
		if m != to && m != from {
			order = append(order, m)
		}
	}
	for _, n := range order {
		if _, err := n.Do("CLUSTER", "SETSLOT", s, "NODE", toID); err != nil {
			fail(fmt.Errorf("%s: %w", n.Addr(), err))
		}
	}
	err = waitFor(clusterTimeout, func() error {
		if n, err := from.Do("CLUSTER", "COUNTKEYSINSLOT", s); err != nil || n != "0" {
			return fmt.Errorf("%s still holds %s keys of slot %s (%v)", from.Addr(), n, s, err)
		}
		return nil
	})
	if err != nil {
		fail(err)
	}
	if _, err := from.Do("CLUSTER", "SETSLOT", s, "NODE", toID); err != nil {
		fail(fmt.Errorf("%s: %w", from.Addr(), err))
	}
	c.WaitSlotOwner(t, to, slot)
}

// RemoveNode takes n, a master without slots or a replica, out of the
// cluster (redis-cli --cluster del-node: every node forgets it, and it
// shuts down) and waits until the cluster has settled.
func (c *Cluster) RemoveNode(t TB, n *Server) {
	t.Helper()
	id := c.NodeID(n)
	var via *Server
	for _, m := range c.live() {
		if m != n {
			via = m
			break
		}
	}
	if id == "" || via == nil {
		t.Fatalf("redistest: del-node %s: not answering, or no other live node", n.Addr())
	}
	if out, err := c.runCLI("--cluster", "del-node", via.Addr(), id); err != nil {
		t.Fatalf("redistest: redis-cli --cluster del-node %s: %v\n%s", n.Addr(), err, out)
	}
	c.mu.Lock()
	c.nodes = slices.DeleteFunc(c.nodes, func(x *Server) bool { return x == n })
	c.mu.Unlock()
	n.Stop()
	c.WaitSettled(t)
	t.Logf("redistest: cluster: removed node %s", n.Addr())
}

// WaitSlotOwner waits until every live node sees owner as the master of
// each of slots (however they were moved: MoveSlots, redis-cli --cluster
// reshard, a failover) and the cluster has settled. It fails t after 30 s.
func (c *Cluster) WaitSlotOwner(t TB, owner *Server, slots ...int) {
	t.Helper()
	err := waitFor(clusterTimeout, func() error {
		for _, n := range c.live() {
			v, err := c.viewOf(n)
			if err != nil {
				return err
			}
			e, ok := v.byAddr(owner.Addr())
			if !ok {
				return fmt.Errorf("%s does not know %s", n.Addr(), owner.Addr())
			}
			have := e.slotList()
			for _, slot := range slots {
				if _, found := slices.BinarySearch(have, slot); !found {
					return fmt.Errorf("%s does not see slot %d at %s yet", n.Addr(), slot, owner.Addr())
				}
			}
		}
		return c.checkSettled()
	})
	if err != nil {
		t.Fatalf("redistest: slots %v not at %s within %v: %v%s", slots, owner.Addr(), clusterTimeout, err, c.logTails())
	}
}

// checkSettled returns nil when the cluster is settled (see WaitSettled),
// or what is not.
func (c *Cluster) checkSettled() error {
	nodes := c.Nodes()
	var ref string
	var refNode *Server
	var view clusterView
	for _, n := range nodes {
		if !n.running() {
			continue
		}
		info, err := n.Do("CLUSTER", "INFO")
		if err != nil {
			return err
		}
		for _, want := range []string{
			"cluster_state:ok",
			"cluster_slots_ok:" + strconv.Itoa(Slots),
			"cluster_known_nodes:" + strconv.Itoa(len(nodes)),
		} {
			if !strings.Contains(info, want+"\r\n") {
				return fmt.Errorf("%s: CLUSTER INFO lacks %s", n.Addr(), want)
			}
		}
		v, err := c.viewOf(n)
		if err != nil {
			return err
		}
		desc, err := c.describe(n, v)
		if err != nil {
			return err
		}
		switch {
		case refNode == nil:
			ref, refNode, view = desc, n, v
		case desc != ref:
			return fmt.Errorf("nodes disagree:\n%s sees\n%s\n%s sees\n%s", refNode.Addr(), ref, n.Addr(), desc)
		}
	}
	if refNode == nil {
		return errors.New("no live node")
	}
	return c.checkReplication(view)
}

// describe renders what node n's view v says about every node, in a form
// equal on every node of a settled cluster, and checks the flags: no
// handshake or suspected failure, live nodes connected and not failed,
// stopped nodes failed and without slots, no slot being migrated.
func (c *Cluster) describe(n *Server, v clusterView) (string, error) {
	if len(v.open) > 0 {
		return "", fmt.Errorf("%s has open slots %v", n.Addr(), v.open)
	}
	var lines []string
	for _, node := range c.Nodes() {
		e, ok := v.byAddr(node.Addr())
		if !ok {
			return "", fmt.Errorf("%s does not know %s", n.Addr(), node.Addr())
		}
		if e.flag("handshake") || e.flag("pfail") || e.flag("noaddr") {
			return "", fmt.Errorf("%s sees %s as %s", n.Addr(), node.Addr(), e.flags)
		}
		if !node.running() {
			if !e.flag("fail") || len(e.slots) > 0 {
				return "", fmt.Errorf("%s sees the stopped node %s as %s with slots %v", n.Addr(), node.Addr(), e.flags, e.slots)
			}
			lines = append(lines, node.Addr()+" failed")
			continue
		}
		if e.flag("fail") || (!e.flag("myself") && e.link != "connected") {
			return "", fmt.Errorf("%s sees %s as %s, %s", n.Addr(), node.Addr(), e.flags, e.link)
		}
		role := "master " + strings.Join(e.slots, ",")
		if e.master != "-" {
			m, ok := v.byID(e.master)
			if !ok {
				return "", fmt.Errorf("%s: master %s of %s unknown", n.Addr(), e.master, node.Addr())
			}
			role = "replica of " + m.addr
		}
		lines = append(lines, node.Addr()+" "+role)
	}
	return strings.Join(lines, "\n"), nil
}

// checkReplication checks, for the live replicas of view, that each says
// its link to its master is up and synced, and that its master lists it
// online.
func (c *Cluster) checkReplication(v clusterView) error {
	for _, n := range c.live() {
		e, ok := v.byAddr(n.Addr())
		if !ok || e.master == "-" {
			continue
		}
		m, _ := v.byID(e.master)
		info, err := n.Do("INFO", "replication")
		if err != nil {
			return err
		}
		for _, want := range []string{"role:slave", "master_link_status:up", "master_sync_in_progress:0"} {
			if !strings.Contains(info, want+"\r\n") {
				return fmt.Errorf("replica %s: INFO replication lacks %s", n.Addr(), want)
			}
		}
		if !strings.Contains(info, "master_port:"+portOf(m.addr)+"\r\n") {
			return fmt.Errorf("replica %s does not replicate from %s yet", n.Addr(), m.addr)
		}
		master := c.node(m.addr)
		if master == nil {
			return fmt.Errorf("replica %s: unknown master %s", n.Addr(), m.addr)
		}
		minfo, err := master.Do("INFO", "replication")
		if err != nil {
			return err
		}
		if !strings.Contains(minfo, "port="+strconv.Itoa(n.Port())+",state=online") {
			return fmt.Errorf("master %s does not list %s as an online replica", m.addr, n.Addr())
		}
	}
	return nil
}

// view returns the cluster as the first live node that answers sees it.
func (c *Cluster) view() (clusterView, error) {
	var lastErr error = errors.New("no live node")
	for _, n := range c.live() {
		v, err := c.viewOf(n)
		if err == nil {
			return v, nil
		}
		lastErr = err
	}
	return clusterView{}, lastErr
}

// viewOf parses n's CLUSTER NODES.
func (c *Cluster) viewOf(n *Server) (clusterView, error) {
	reply, err := n.Do("CLUSTER", "NODES")
	if err != nil {
		return clusterView{}, err
	}
	return parseClusterNodes(reply)
}

// live returns the nodes whose process runs.
func (c *Cluster) live() []*Server {
	var out []*Server
	for _, n := range c.Nodes() {
		if n.running() {
			out = append(out, n)
		}
	}
	return out
}

// node returns the node listening on addr, or nil.
func (c *Cluster) node(addr string) *Server {
	for _, n := range c.Nodes() {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// runCLI runs redis-cli with args (after the password, if any) and returns
// its combined output.
func (c *Cluster) runCLI(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var full []string
	if c.password != "" {
		full = append(full, "-a", c.password, "--no-auth-warning")
	}
	out, err := exec.CommandContext(ctx, c.cli, append(full, args...)...).CombinedOutput()
	return string(out), err
}

// logTails returns the end of every node's log, for failure messages.
func (c *Cluster) logTails() string {
	var b strings.Builder
	for _, n := range c.Nodes() {
		if p := n.current(); p != nil {
			b.WriteString(p.logTail())
		}
	}
	return b.String()
}

// clusterView is one node's CLUSTER NODES.
type clusterView struct {
	entries []clusterEntry
	open    []string // "[slot->-id]" / "[slot-<-id]" markers of slots being moved
}

// clusterEntry is one line of CLUSTER NODES.
type clusterEntry struct {
	id     string
	addr   string // "host:port", without the bus port
	flags  string // "myself,master", "slave", "master,fail", ...
	master string // the master's ID, or "-"
	link   string // "connected" or "disconnected"
	slots  []string
}

// parseClusterNodes parses the reply of CLUSTER NODES:
//
//	<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
func parseClusterNodes(reply string) (clusterView, error) {
	var v clusterView
	for line := range strings.SplitSeq(strings.TrimSpace(reply), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return clusterView{}, fmt.Errorf("unexpected CLUSTER NODES line %q", line)
		}
		addr, _, _ := strings.Cut(f[1], "@")
		e := clusterEntry{id: f[0], addr: addr, flags: f[2], master: f[3], link: f[7]}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				v.open = append(v.open, s)
				continue
			}
			e.slots = append(e.slots, s)
		}
		v.entries = append(v.entries, e)
	}
	return v, nil
}

func (e clusterEntry) flag(name string) bool {
	return slices.Contains(strings.Split(e.flags, ","), name)
}

// slotList expands the entry's slot ranges.
func (e clusterEntry) slotList() []int {
	var out []int
	for _, r := range e.slots {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for s := a; s <= b; s++ {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func (v clusterView) byAddr(addr string) (clusterEntry, bool) {
	for _, e := range v.entries {
		if e.addr == addr {
			return e, true
		}
	}
	return clusterEntry{}, false
}

func (v clusterView) byID(id string) (clusterEntry, bool) {
	for _, e := range v.entries {
		if e.id == id {
			return e, true
		}
	}
	return clusterEntry{}, false
}

// owner returns the entry that owns slot.
func (v clusterView) owner(slot int) (clusterEntry, bool) {
	for _, e := range v.entries {
		if slices.Contains(e.slotList(), slot) {
			return e, true
		}
	}
	return clusterEntry{}, false
}

// bySlot returns the entries that own slots, by their first slot.
func (v clusterView) bySlot() []clusterEntry {
	var out []clusterEntry
	for _, e := range v.entries {
		if len(e.slots) > 0 && !e.flag("fail") {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b clusterEntry) int { return a.slotList()[0] - b.slotList()[0] })
	return out
}

// running reports whether the server's process runs.
func (s *Server) running() bool {
	p := s.current()
	return p != nil && !p.exited()
}

func addrsOf(servers []*Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Addr()
	}
	return out
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
