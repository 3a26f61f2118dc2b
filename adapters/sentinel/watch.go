package sentinel

// The failover watch: the store learns that the master moved from the
// sentinels' own announcements, on every configured sentinel, rather than
// from the one sentinel each go-redis failover client asks, and points its
// clients at the new master at once.
//
// What a forced failover looks like on redis-sentinel 7.0.15 (SENTINEL
// FAILOVER, 3 sentinels, 1 replica; times from the command, measured
// here):
//
//	  0 ms  leader  +new-epoch, +try-failover, +elected-leader, +selected-slave …
//	232 ms  leader  +failover-state-wait-promotion slave <ip:port> <ip> <port> @ <master> <old-ip> <old-port>
//	232 ms          the replica runs SLAVEOF NO ONE (and CLIENT KILL of its
//	                clients, in the same MULTI): it accepts writes from now on
//	1123 ms leader  +promoted-slave (same format), +failover-state-reconf-slaves
//	                master <master> <old-ip> <old-port>; GET-MASTER-ADDR-BY-NAME
//	                answers the replica from here on
//	1174 ms leader  +failover-end, +switch-master <master> <old-ip> <old-port> <new-ip> <new-port>
//	1183 ms others  +config-update-from, +switch-master; they answer the replica
//	~11 s           the old master, a master all along, is turned into a replica
//
// The sentinel notices the promotion only at its next INFO of the replica
// (every second during a failover), so +promoted-slave and everything after
// it come up to a second after the new master took its first write; the old
// master keeps accepting writes and serving reads, and tracking on it
// reports nothing, until then. So the watch acts on the earliest event:
// +failover-state-wait-promotion names the replica the leader has just told
// to become master; the watch asks that replica for its ROLE every
// promotionPoll until it says master, and adopts it then (tentatively: an
// abort of that failover takes it back). +promoted-slave and +switch-master
// (from any sentinel) adopt their new master directly, for the sentinels
// whose wait-promotion the watch missed. +failover-state-reconf-slaves names
// only the old master, and comes with +promoted-slave: it adds nothing.
//
// Adopting a master (adopt) records it in the route and then calls
// redisstore.Failover: tracking ends at once (the local copies are dropped)
// and restarts, and the host's commands get a new client; every connection
// those open goes through route, so they reach the new master even while
// the sentinels go-redis asks still answer the old one.

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// The sentinel channels the watch subscribes to.
const (
	evWaitPromotion = "+failover-state-wait-promotion"
	evPromoted      = "+promoted-slave"
	evSwitchMaster  = "+switch-master"
	// evAbort is the one abort a failover can meet after wait-promotion:
	// the replica did not report itself master within failover-timeout.
	evAbort = "-failover-abort-slave-timeout"
)

var watchedEvents = []string{evWaitPromotion, evPromoted, evSwitchMaster, evAbort}

const (
	// promotionPoll is how often the watch asks a replica being promoted
	// for its ROLE, and promotionWait how long it keeps asking; after that
	// the sentinels' +promoted-slave and +switch-master take over.
	promotionPoll = time.Millisecond
	promotionWait = 5 * time.Second
	// routeTTL bounds how long connections to a replaced master are sent
	// to its successor when not every watched sentinel has announced the
	// switch (see watcher.route).
	routeTTL = 30 * time.Second
	// watchHealth is how long a subscription stays quiet before the watch
	// sends PING, and then how long it waits for the reply before it
	// subscribes again.
	watchHealth = time.Second
	// Bounds of the wait before subscribing again to a sentinel; a
	// subscription that lived watchMature resets it.
	watchMinRetry = 50 * time.Millisecond
	watchMaxRetry = 2 * time.Second
	watchMature   = 5 * time.Second
)

// watcher subscribes to the failover events of every configured sentinel,
// from the store's first connection to the master until Close, and keeps
// the route of new connections.
type watcher struct {
	d *deployment

	mu       sync.Mutex
	failover func() // redisstore.Failover on the store (setFailover)
	running  bool
	closed   bool
	cancel   context.CancelFunc // of every goroutine of the watch
	confirm  context.CancelFunc // of the running promotion check, if any
	wg       sync.WaitGroup

	// The route (see route). Guarded by mu.
	newest    string              // the master adopted last; "" before any
	from      string              // the master newest replaced
	tentative bool                // newest is adopted on its ROLE; no sentinel confirmed it yet
	stale     map[string]struct{} // replaced masters: dialled as newest
	since     time.Time           // when stale was last filled
	announced map[int]struct{}    // the watched sentinels that announced the switch to newest

	adopting sync.Mutex // orders adoptions and their Failover calls
}

func newWatcher(d *deployment) *watcher {
	return &watcher{d: d, stale: map[string]struct{}{}, announced: map[int]struct{}{}}
}

// setFailover sets what adopting a master calls.
func (w *watcher) setFailover(f func()) {
	w.mu.Lock()
	w.failover = f
	w.mu.Unlock()
}

// start starts the watch unless it runs or was closed. It never blocks:
// the master's first connection calls it.
func (w *watcher) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running || w.closed {
		return
	}
	w.running = true
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for i, addr := range w.d.opts.SentinelAddrs {
		w.wg.Add(1)
		go w.watch(ctx, i, addr)
	}
}

// close stops the watch for good and waits for its goroutines.
func (w *watcher) close() {
	w.mu.Lock()
	w.closed = true
	cancel := w.cancel
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	w.wg.Wait()
}

// route returns the address a new connection to the master resolved as
// addr must dial: addr itself, unless addr is a master the watch saw
// replaced, in which case its successor, the newest master.
//
// The rule: an address is stale once an event of the failover that
// replaced it arrived, and stays stale while a sentinel go-redis may ask
// can still answer it: until every watched sentinel has announced the
// switch (+switch-master naming newest; a sentinel's configuration only
// moves forward, by epoch, so it never answers the old master again), or
// for routeTTL at most, since a sentinel not watched, or not reachable,
// never announces it (a sentinel down or restarted during the failover
// answers the old master from its configuration file until it hears the
// others' hello: the route covers it; by routeTTL the sentinels have long
// learned the promotion, within a hello period of 2 s, and have turned the
// old master into a replica, about 10 s after the switch). Any other address is a
// master the sentinels know of and the watch does not (a sentinel, when
// go-redis dials one; a later failover the watch missed): it is dialled as
// resolved. A later failover replaces newest (a failover back to the old
// master takes it out of stale); an abort of a tentative adoption goes back.
func (w *watcher) route(addr string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.stale) == 0 {
		return addr
	}
	if time.Since(w.since) > routeTTL {
		clear(w.stale)
		return addr
	}
	if _, ok := w.stale[addr]; ok {
		return w.newest
	}
	return addr
}

// adopt makes next the newest master, replacing old (the master the event
// names as replaced, "" if none), and calls Failover when that is news.
// tentative marks an adoption on the replica's own ROLE.
func (w *watcher) adopt(old, next string, tentative bool) {
	w.adopting.Lock()
	defer w.adopting.Unlock()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	if next == w.newest {
		if !tentative {
			w.tentative = false // a sentinel confirmed it
		}
		w.mu.Unlock()
		return
	}
	prev := w.newest
	if prev != "" {
		w.stale[prev] = struct{}{}
	}
	if old != "" {
		w.stale[old] = struct{}{}
	}
	delete(w.stale, next)
	w.from, w.newest, w.tentative, w.since = old, next, tentative, time.Now()
	clear(w.announced)
	failover := w.failover
	if w.confirm != nil && !tentative {
		w.confirm() // a sentinel was faster than the replica's ROLE
		w.confirm = nil
	}
	w.mu.Unlock()
	w.d.logger.Info("master moved: switching to the new master at once",
		zap.String("master", w.d.opts.MasterName), zap.String("from", old), zap.String("to", next),
		zap.Bool("confirmed_by_sentinel", !tentative))
	if failover != nil {
		failover()
	}
}

// announce records that watched sentinel i announced the switch to next,
// and forgets the stale masters once every watched sentinel did.
func (w *watcher) announce(i int, next string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if next != w.newest {
		return
	}
	w.announced[i] = struct{}{}
	if len(w.announced) == len(w.d.opts.SentinelAddrs) {
		clear(w.stale)
	}
}

// aborted handles the abort of a failover of the master at addr: a
// tentative adoption made for that failover is taken back.
func (w *watcher) aborted(addr string) {
	w.mu.Lock()
	back := w.tentative && w.from == addr
	cur := w.newest
	if w.confirm != nil {
		w.confirm()
		w.confirm = nil
	}
	w.mu.Unlock()
	if back {
		w.adopt(cur, addr, false)
	}
}

// watch keeps a subscription to the sentinel at addr (the i-th configured)
// until ctx ends, subscribing again after a loss with a growing wait.
func (w *watcher) watch(ctx context.Context, i int, addr string) {
	defer w.wg.Done()
	log := w.d.logger.With(zap.String("master", w.d.opts.MasterName), zap.String("sentinel", addr))
	wait := watchMinRetry
	for {
		born := time.Now()
		live, err := w.subscribe(ctx, i, addr)
		if ctx.Err() != nil {
			return
		}
		if live {
			log.Warn("sentinel subscription lost; subscribing again", zap.Duration("retry_in", wait), zap.Error(err))
		} else {
			log.Debug("sentinel subscription failed; retrying", zap.Duration("retry_in", wait), zap.Error(err))
		}
		if time.Since(born) >= watchMature {
			wait = watchMinRetry
		}
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, watchMaxRetry)
	}
}

// subscribe subscribes to the sentinel at addr and handles its events until
// the subscription fails or ctx ends. live reports whether the
// subscription was confirmed.
func (w *watcher) subscribe(ctx context.Context, i int, addr string) (live bool, err error) {
	opt := w.d.sentinelOptions(addr)
	opt.Protocol = 2 // Pub/Sub messages as plain replies
	c := redis.NewSentinelClient(opt)
	defer c.Close()
	ps := c.Subscribe(ctx, watchedEvents...)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, watchHealth)
		if err != nil {
			if ctx.Err() != nil {
				return live, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged && live {
				if err := ps.Ping(ctx); err != nil {
					return live, err
				}
				pinged = true
				continue
			}
			return live, err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			live = true
		case *redis.Message:
			w.event(ctx, i, m.Channel, m.Payload)
		}
	}
}

// event handles one announcement of the watched sentinel i.
func (w *watcher) event(ctx context.Context, i int, channel, payload string) {
	switch channel {
	case evWaitPromotion:
		if r, ok := parseInstance(payload); ok && r.kind == "slave" && r.master == w.d.opts.MasterName {
			w.checkPromotion(ctx, r.masterAddr, r.addr)
		}
	case evPromoted:
		if r, ok := parseInstance(payload); ok && r.kind == "slave" && r.master == w.d.opts.MasterName {
			w.adopt(r.masterAddr, r.addr, false)
		}
	case evSwitchMaster:
		if master, old, next, ok := parseSwitch(payload); ok && master == w.d.opts.MasterName {
			w.adopt(old, next, false)
			w.announce(i, next)
		}
	case evAbort:
		if r, ok := parseInstance(payload); ok && r.kind == "master" && r.name == w.d.opts.MasterName {
			w.aborted(r.addr)
		}
	}
}

// checkPromotion asks the replica at next, which a sentinel has just told
// to become master in place of old, for its ROLE until it says master, and
// adopts it then. A later check, an adoption confirmed by a sentinel, an
// abort and Close stop it.
func (w *watcher) checkPromotion(ctx context.Context, old, next string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || next == w.newest {
		return
	}
	if w.confirm != nil {
		w.confirm()
	}
	ctx, cancel := context.WithTimeout(ctx, promotionWait)
	w.confirm = cancel
	w.wg.Go(func() {
		defer cancel()
		c := redis.NewClient(w.d.nodeOptions(next))
		defer c.Close()
		// Closing the client interrupts a ROLE the replica is slow to
		// answer: Close does not wait for its ReadTimeout.
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		defer stop()
		for {
			role, err := c.Do(ctx, "ROLE").Slice()
			switch {
			case err == nil && len(role) > 0 && role[0] == "master":
				w.adopt(old, next, true)
				return
			case err != nil && isNoPerm(err):
				// The user may not run ROLE: the sentinels' own
				// announcements will do.
				w.d.logger.Debug("cannot check the promotion (ROLE refused); waiting for the sentinels",
					zap.String("addr", next), zap.Error(err))
				return
			}
			if !sleep(ctx, promotionPoll) {
				return
			}
		}
	})
}

// instance is a Sentinel event's instance details: "<kind> <name> <ip>
// <port>", followed for a replica or a sentinel by "@ <master> <master-ip>
// <master-port>".
type instance struct {
	kind, name, addr   string
	master, masterAddr string
}

func parseInstance(payload string) (instance, bool) {
	f := strings.Fields(payload)
	if len(f) < 4 {
		return instance{}, false
	}
	r := instance{kind: f[0], name: f[1], addr: net.JoinHostPort(f[2], f[3])}
	if r.kind == "master" {
		r.master, r.masterAddr = r.name, r.addr
		return r, true
	}
	if len(f) < 8 || f[4] != "@" {
		return instance{}, false
	}
	r.master, r.masterAddr = f[5], net.JoinHostPort(f[6], f[7])
	return r, true
}

// parseSwitch parses +switch-master: "<master> <old-ip> <old-port> <new-ip>
// <new-port>".
func parseSwitch(payload string) (master, old, next string, ok bool) {
	f := strings.Fields(payload)
	if len(f) != 5 {
		return "", "", "", false
	}
	return f[0], net.JoinHostPort(f[1], f[2]), net.JoinHostPort(f[3], f[4]), true
}

// isNoPerm recognises an ACL refusal.
func isNoPerm(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "NOPERM")
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
