package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MasterName is the name under which the sentinels of a Topology monitor
// their master (Frappe's redis_cache_master_service).
const MasterName = "mymaster"

const (
	// sentinelBinary is the program that runs each sentinel.
	sentinelBinary = "redis-sentinel"
	// defaultSentinels and defaultReplicas shape the topology StartSentinel
	// starts without WithSentinels / WithReplicas.
	defaultSentinels = 3
	defaultReplicas  = 1
	// topologyTimeout bounds the wait for the sentinels to agree on the
	// topology, at start and after a failover. A forced failover takes
	// about 10 s to settle: Sentinel waits 8 s before it demotes the old
	// master into a replica of the new one.
	topologyTimeout = 30 * time.Second
	// downAfter is the sentinels' down-after-milliseconds.
	downAfter = 1000
	// failoverTimeout is the sentinels' failover-timeout in milliseconds.
	failoverTimeout = 5000
)

// WithSentinelPassword protects the sentinels of a topology with requirepass
// (and makes them authenticate to each other with it). Only StartSentinel
// honours it.
func WithSentinelPassword(pw string) Option {
	return func(o *serverOptions) { o.sentinelPassword = pw }
}

// WithSentinels sets how many sentinels StartSentinel starts (default 3,
// at least 1). The quorum is a majority of them.
func WithSentinels(n int) Option {
	return func(o *serverOptions) { o.sentinels = max(n, 1) }
}

// WithReplicas sets how many replicas StartSentinel starts (default 1). A
// topology without replicas cannot fail over.
func WithReplicas(n int) Option {
	return func(o *serverOptions) {
		if n <= 0 {
			o.replicas = -1
		} else {
			o.replicas = n
		}
	}
}

// Topology is a master, its replicas and the sentinels that monitor them,
// started by StartSentinel. Which data node is the master changes with
// failovers; Master asks the sentinels. Its methods are safe for concurrent
// use.
type Topology struct {
	masterName       string
	password         string // data nodes
	sentinelPassword string
	quorum           int

	nodes     []*Server // every data node; nodes[0] was the first master
	sentinels []*Sentinel
}

// Sentinel is one redis-sentinel process of a Topology.
type Sentinel struct {
	port     int
	tlsPort  int // 0: no TLS
	dir      string
	conf     string // path of sentinel.conf, which the sentinel rewrites
	bin      string
	password string

	mu   sync.Mutex
	proc *process
}

// StartSentinel starts a master, its replicas (default one, see
// WithReplicas) and its sentinels (default three, see WithSentinels), each
// on a free loopback port in its own t.TempDir, and waits until every
// sentinel sees the master, every replica and every other sentinel. The
// sentinels monitor the master as MasterName with a majority quorum,
// down-after-milliseconds 1000 and failover-timeout 5000; they also listen
// on [::1] when the host has IPv6 loopback.
//
// WithModule, WithPassword and WithArgs apply to every data node
// (WithPassword also sets masterauth, so any node can become a replica, and
// sentinel auth-pass); WithSentinelPassword protects the sentinels. WithTLS
// (and WithTLSClientAuth) apply to the data nodes and the sentinels: they
// replicate and monitor over TLS, the sentinels report the nodes' TLS
// ports, and a TLS client reaches the sentinels at SentinelTLSAddrs.
// Everything is stopped by t.Cleanup, the sentinels first. StartSentinel
// fails t when the topology does not come up.
func StartSentinel(t TB, opts ...Option) *Topology {
	t.Helper()
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.replicaOf != "" {
		t.Fatalf("redistest: WithReplicaOf does not apply to StartSentinel")
	}
	nSentinels, nReplicas := o.sentinels, o.replicas
	if nSentinels == 0 {
		nSentinels = defaultSentinels
	}
	switch {
	case nReplicas < 0:
		nReplicas = 0
	case nReplicas == 0:
		nReplicas = defaultReplicas
	}
	sentinelBin, err := lookBinary(sentinelBinary)
	if err != nil {
		t.Fatalf("%v", err)
	}

	// Full resynchronisations start at once rather than after the default
	// 5 s delay: at start, and when a failover demotes the old master.
	dataOpts := []Option{WithArgs("--repl-diskless-sync-delay", "0")}
	if o.module {
		dataOpts = append(dataOpts, WithModule())
	}
	if o.password != "" {
		dataOpts = append(dataOpts, WithPassword(o.password))
	}
	if len(o.args) > 0 {
		dataOpts = append(dataOpts, WithArgs(o.args...))
	}
	if o.tlsCA != nil {
		dataOpts = append(dataOpts, WithTLS(o.tlsCA))
		if o.tlsAuthClients {
			dataOpts = append(dataOpts, WithTLSClientAuth())
		}
	}
	masterOpts := dataOpts
	if o.password != "" {
		// The master becomes a replica after a failover.
		masterOpts = append(masterOpts[:len(masterOpts):len(masterOpts)], WithArgs("--masterauth", o.password))
	}

	top := &Topology{
		masterName:       MasterName,
		password:         o.password,
		sentinelPassword: o.sentinelPassword,
		quorum:           nSentinels/2 + 1,
	}
	master := StartServer(t, masterOpts...)
	top.nodes = append(top.nodes, master)
	for range nReplicas {
		replicaOpts := append(dataOpts[:len(dataOpts):len(dataOpts)], WithReplicaOf(master.replAddr()))
		top.nodes = append(top.nodes, StartServer(t, replicaOpts...))
	}
	// Sentinels discover replicas from the master's INFO, which they read
	// when they connect and then every 10 s: start them once the replicas
	// are online so they are seen at once.
	if err := waitFor(topologyTimeout, func() error { return top.checkReplication(master) }); err != nil {
		t.Fatalf("redistest: replicas of %s did not come online: %v", master.Addr(), err)
	}

	for range nSentinels {
		s := &Sentinel{bin: sentinelBin, password: o.sentinelPassword}
		s.dir = t.TempDir()
		s.conf = filepath.Join(s.dir, "sentinel.conf")
		var tlsLines [][2]string
		if o.tlsCA != nil {
			kp := o.tlsCA.Issue(t, "redis-sentinel", "127.0.0.1", "localhost")
			tlsLines = tlsArgs(0, kp, o.tlsCA, o.tlsAuthClients)
		}
		err := onFreePort(t, func(port int) error {
			s.port = port
			conf := top.sentinelConf(port, s.dir, master.replPort())
			if tlsLines != nil {
				var err error
				if s.tlsPort, err = freePort(); err != nil {
					return err
				}
				tlsLines[0][1] = strconv.Itoa(s.tlsPort)
				for _, kv := range tlsLines {
					conf += kv[0] + " " + kv[1] + "\n"
				}
			}
			if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
				return fmt.Errorf("redistest: %w", err)
			}
			return s.launch()
		})
		if err != nil {
			t.Fatalf("redistest: starting %s: %v", sentinelBinary, err)
		}
		t.Cleanup(s.Stop)
		top.sentinels = append(top.sentinels, s)
	}

	if err := waitFor(topologyTimeout, top.checkSettled); err != nil {
		t.Fatalf("redistest: sentinels did not agree on the topology within %v: %v%s", topologyTimeout, err, top.logTails())
	}
	t.Logf("redistest: sentinel topology up: master %s, replicas %v, sentinels %v", master.Addr(), top.addrs(top.nodes[1:]), top.SentinelAddrs())
	return top
}

// sentinelConf is the configuration file of a sentinel on port.
func (top *Topology) sentinelConf(port int, dir string, masterPort int) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("port %d", port)
	line("bind 127.0.0.1 -::1") // "-": skip ::1 when the host has no IPv6
	line("dir %s", dir)
	line("logfile %s", filepath.Join(dir, "sentinel.log"))
	line("daemonize no")
	line("sentinel resolve-hostnames no")
	line("sentinel monitor %s 127.0.0.1 %d %d", top.masterName, masterPort, top.quorum)
	line("sentinel down-after-milliseconds %s %d", top.masterName, downAfter)
	line("sentinel failover-timeout %s %d", top.masterName, failoverTimeout)
	if top.password != "" {
		line("sentinel auth-pass %s %s", top.masterName, confQuote(top.password))
	}
	if top.sentinelPassword != "" {
		line("requirepass %s", confQuote(top.sentinelPassword))
		line("sentinel sentinel-pass %s", confQuote(top.sentinelPassword))
	}
	return b.String()
}

// confQuote quotes s for a Redis configuration file (sdssplitargs): in
// double quotes, with \, \" and the bytes outside printable ASCII escaped
// as \xHH, so passwords with spaces, quotes or any byte survive.
func confQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// MasterName returns the name the sentinels monitor the master under.
func (top *Topology) MasterName() string { return top.masterName }

// SentinelAddrs returns the "127.0.0.1:port" address of every sentinel.
func (top *Topology) SentinelAddrs() []string {
	addrs := make([]string, len(top.sentinels))
	for i, s := range top.sentinels {
		addrs[i] = s.Addr()
	}
	return addrs
}

// SentinelTLSAddrs returns the "127.0.0.1:port" TLS address of every
// sentinel of a topology started WithTLS (nil without TLS). go-redis speaks
// TLS to the sentinels and the data nodes alike (FailoverOptions.TLSConfig),
// so a TLS client is given these.
func (top *Topology) SentinelTLSAddrs() []string {
	var addrs []string
	for _, s := range top.sentinels {
		if s.tlsPort != 0 {
			addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort)))
		}
	}
	return addrs
}

// Sentinels returns the sentinel processes.
func (top *Topology) Sentinels() []*Sentinel { return top.sentinels }

// Nodes returns every data node, master and replicas, in start order.
func (top *Topology) Nodes() []*Server { return top.nodes }

// Master returns the data node that is the master now, as the sentinels
// report it (the first one that answers). When no sentinel answers, it
// returns the node whose ROLE is master, or nil.
func (top *Topology) Master() *Server {
	for _, s := range top.sentinels {
		if addr, err := s.masterAddr(top.masterName); err == nil {
			if n := top.node(addr); n != nil {
				return n
			}
		}
	}
	for _, n := range top.nodes {
		if role, err := n.Do("ROLE"); err == nil && strings.HasPrefix(role, "master\n") {
			return n
		}
	}
	return nil
}

// Replica returns the first data node that is not the current master, or
// nil in a topology without replicas.
func (top *Topology) Replica() *Server {
	master := top.Master()
	for _, n := range top.nodes {
		if n != master {
			return n
		}
	}
	return nil
}

// Failover makes the sentinels promote a replica (SENTINEL FAILOVER) and
// waits until the topology has settled: every sentinel reports the new
// master, the new master has role master, the old master has been
// demoted into its replica with an up link, and no sentinel has a failover
// in progress. It returns the new master. A forced failover settles in
// about 10 s, mostly Sentinel's own 8 s wait before it demotes the old
// master. It fails t when the failover does not complete within 30 s.
func (top *Topology) Failover(t TB) *Server {
	t.Helper()
	old := top.Master()
	if old == nil {
		t.Fatalf("redistest: failover: no master")
	}
	// A sentinel refuses while it does not yet consider a replica good
	// enough (NOGOODSLAVE) or a previous failover runs (INPROG): retry.
	err := waitFor(topologyTimeout, func() error {
		var errs []error
		for _, s := range top.sentinels {
			reply, err := s.Do("SENTINEL", "FAILOVER", top.masterName)
			if err == nil && reply == "OK" {
				return nil
			}
			errs = append(errs, fmt.Errorf("%s: %q %v", s.Addr(), reply, err))
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("redistest: SENTINEL FAILOVER %s refused: %v", top.masterName, err)
	}
	var master *Server
	err = waitFor(topologyTimeout, func() error {
		if err := top.checkSettled(); err != nil {
			return err
		}
		master = top.Master()
		if master == old {
			return fmt.Errorf("the sentinels still report %s", old.Addr())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: failover of %s did not settle within %v: %v%s", old.Addr(), topologyTimeout, err, top.logTails())
	}
	t.Logf("redistest: failover: master moved from %s to %s", old.Addr(), master.Addr())
	return master
}

// checkReplication checks that master has every other data node as an
// online replica.
func (top *Topology) checkReplication(master *Server) error {
	info, err := master.Do("INFO", "replication")
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:master\r\n") {
		return fmt.Errorf("%s is not a master", master.Addr())
	}
	for _, n := range top.nodes {
		if n == master {
			continue
		}
		if !strings.Contains(info, fmt.Sprintf("port=%d,state=online", n.replPort())) {
			return fmt.Errorf("%s is not an online replica of %s", n.Addr(), master.Addr())
		}
		role, err := n.Do("ROLE")
		if err != nil {
			return err
		}
		want := fmt.Sprintf("slave\n127.0.0.1\n%d\nconnected\n", master.replPort())
		if !strings.HasPrefix(role, want) {
			return fmt.Errorf("%s reports ROLE %q", n.Addr(), strings.ReplaceAll(role, "\n", " "))
		}
	}
	return nil
}

// checkSettled checks that every sentinel agrees on one master, which has
// every other node as an online replica, and sees every replica and every
// other sentinel, with no failover in progress.
func (top *Topology) checkSettled() error {
	var masterAddr string
	for _, s := range top.sentinels {
		addr, err := s.masterAddr(top.masterName)
		if err != nil {
			return err
		}
		if masterAddr == "" {
			masterAddr = addr
		} else if addr != masterAddr {
			return fmt.Errorf("sentinels disagree on the master: %s and %s", masterAddr, addr)
		}
	}
	master := top.node(masterAddr)
	if master == nil {
		return fmt.Errorf("sentinels report an unknown master %s", masterAddr)
	}
	if err := top.checkReplication(master); err != nil {
		return err
	}
	for _, s := range top.sentinels {
		reply, err := s.Do("SENTINEL", "MASTER", top.masterName)
		if err != nil {
			return err
		}
		m := firstRecord(reply)
		if m["flags"] != "master" {
			return fmt.Errorf("sentinel %s: master flags %q", s.Addr(), m["flags"])
		}
		if want := strconv.Itoa(len(top.nodes) - 1); m["num-slaves"] != want {
			return fmt.Errorf("sentinel %s knows %s replicas, want %s", s.Addr(), m["num-slaves"], want)
		}
		if want := strconv.Itoa(len(top.sentinels) - 1); m["num-other-sentinels"] != want {
			return fmt.Errorf("sentinel %s knows %s other sentinels, want %s", s.Addr(), m["num-other-sentinels"], want)
		}
		reply, err = s.Do("SENTINEL", "REPLICAS", top.masterName)
		if err != nil {
			return err
		}
		// The replica's own view (master-link-status) lags: sentinels
		// read a replica's INFO every 10 s. checkReplication asked the
		// nodes themselves.
		for _, r := range records(reply) {
			if r["flags"] != "slave" {
				return fmt.Errorf("sentinel %s: replica %s has flags %q", s.Addr(), r["name"], r["flags"])
			}
		}
	}
	return nil
}

// logTails returns the end of the log of every process of the topology,
// for failure messages.
func (top *Topology) logTails() string {
	var b strings.Builder
	for _, n := range top.nodes {
		if p := n.current(); p != nil {
			b.WriteString(p.logTail())
		}
	}
	for _, s := range top.sentinels {
		b.WriteString(s.logTail())
	}
	return b.String()
}

// node returns the data node listening on addr ("host:port"), or nil.
func (top *Topology) node(addr string) *Server {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	for _, n := range top.nodes {
		if strconv.Itoa(n.Port()) == port || (n.TLSPort() != 0 && strconv.Itoa(n.TLSPort()) == port) {
			return n
		}
	}
	return nil
}

func (top *Topology) addrs(servers []*Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Addr()
	}
	return out
}

// launch starts the sentinel on s.port with its configuration file and
// waits until it answers PING. On failure nothing is left running.
func (s *Sentinel) launch() error {
	p, err := startProcess(s.bin, []string{s.conf}, s.dir, filepath.Join(s.dir, "sentinel.log"))
	if err != nil {
		return err
	}
	if err := waitReady(p, s.Addr(), s.password, readyTimeout); err != nil {
		p.kill()
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// Addr returns "127.0.0.1:port".
func (s *Sentinel) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the TCP port the sentinel listens on (on 127.0.0.1, and on
// ::1 when the host has IPv6 loopback).
func (s *Sentinel) Port() int { return s.port }

// Dir returns the sentinel's working directory, which holds sentinel.conf
// and sentinel.log.
func (s *Sentinel) Dir() string { return s.dir }

// Do sends one command to the sentinel, authenticating first when the
// topology has a sentinel password; see Server.Do.
func (s *Sentinel) Do(args ...string) (string, error) {
	return do(s.Addr(), s.password, time.Minute, args...)
}

// Stop ends the sentinel with SIGTERM, waits up to 10 seconds, then kills
// it. Stopping a stopped sentinel does nothing.
func (s *Sentinel) Stop() {
	if p := s.current(); p != nil {
		p.stop(stopTimeout)
	}
}

// Kill ends the sentinel with SIGKILL and waits for it.
func (s *Sentinel) Kill() {
	if p := s.current(); p != nil {
		p.kill()
	}
}

// Restart starts the sentinel again on the same port with its (rewritten)
// configuration, after stopping it if it still runs, and waits until it
// answers PING. It fails t when the sentinel does not come back.
func (s *Sentinel) Restart(t TB) {
	t.Helper()
	s.Stop()
	var err error
	for attempt := range portAttempts {
		if err = s.launch(); !errors.Is(err, errAddrInUse) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("redistest: restarting %s on %s: %v", sentinelBinary, s.Addr(), err)
	}
}

// String describes the sentinel for logs.
func (s *Sentinel) String() string { return fmt.Sprintf("%s %s", sentinelBinary, s.Addr()) }

func (s *Sentinel) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// logTail returns the end of the sentinel's log, for failure messages.
func (s *Sentinel) logTail() string {
	if p := s.current(); p != nil {
		return p.logTail()
	}
	return ""
}

// masterAddr asks the sentinel for the address of master.
func (s *Sentinel) masterAddr(master string) (string, error) {
	reply, err := s.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master)
	if err != nil {
		return "", err
	}
	host, port, ok := strings.Cut(reply, "\n")
	if !ok {
		return "", fmt.Errorf("sentinel %s does not know master %q", s.Addr(), master)
	}
	return net.JoinHostPort(host, port), nil
}

// records parses the reply of SENTINEL REPLICAS (or SENTINELS), flattened
// by do into "field\nvalue\n..." lines, into one map per instance; each
// instance starts with its "name" field.
func records(reply string) []map[string]string {
	if reply == "" {
		return nil
	}
	lines := strings.Split(reply, "\n")
	var out []map[string]string
	for i := 0; i+1 < len(lines); i += 2 {
		if lines[i] == "name" || len(out) == 0 {
			out = append(out, map[string]string{})
		}
		out[len(out)-1][lines[i]] = lines[i+1]
	}
	return out
}

// firstRecord parses the reply of SENTINEL MASTER.
func firstRecord(reply string) map[string]string {
	if r := records(reply); len(r) > 0 {
		return r[0]
	}
	return map[string]string{}
}

// waitFor calls check every pollInterval until it returns nil or timeout
// passes, and then returns its last error.
func waitFor(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollInterval * 5)
	}
}
