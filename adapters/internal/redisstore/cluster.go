package redisstore

// What a Redis Cluster needs beyond the command code every backend shares.
// A Store whose client is a *redis.ClusterClient (NewCluster; go-redis
// routes each single-key command to the master of its slot by itself):
//
//   - splits multi-key commands (UNLINK, EXISTS of several keys) by hash
//     slot, since a cluster refuses keys of different slots in one command
//     (CROSSSLOT), and sends the parts in one cluster pipeline: go-redis
//     sends each node its commands in one round trip, every node in
//     parallel, and follows MOVED and ASK per command;
//   - scans every master, and only masters, in parallel, and hands fn the
//     keys of one node's SCAN reply at a time;
//   - pings every master, which must report cluster_state:ok.
//
// Other clients (standalone, Sentinel) never reach this code: each entry
// point checks the client's type once, and a single key never needs
// splitting.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// NewCluster returns a Store whose commands go through cc, a Redis Cluster,
// and makes cc reload the cluster's layout on failures that say it changed
// (watchTopology). node builds the clients of single nodes: the tracking of
// each master (tracking_cluster.go), and each broadcast subscription
// (Subscribe), a one-connection client of the master of slot 0, since
// classic Pub/Sub reaches every node. Besides WithLogger and WithEndpoint
// it takes WithHealthCheck, WithTrackingPool (per master),
// WithTopologyRefresh and WithFailoverProbe. It panics if cc or node is nil.
func NewCluster(cc *redis.ClusterClient, node NodeFactory, opts ...Option) *Store {
	if cc == nil || node == nil {
		panic("redisstore: nil cluster client or node factory")
	}
	o := buildOptions(opts)
	s := newStore(cc, o)
	s.factory = func(onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
		addr := cc.Options().Addrs[0]
		ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
		defer cancel()
		if n, err := cc.MasterForKey(ctx, ""); err == nil {
			addr = n.Options().Addr
		}
		return node(addr, onConnect, poolSize)
	}
	s.ct = newClusterTracking(s, cc, node, o)
	watchTopology(cc)
	return s
}

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// KeySlot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of the
// key, or of its hash tag (the part between the first "{" and the next "}",
// when not empty), modulo 16384, as CLUSTER KEYSLOT computes it.
func KeySlot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^key[i]]
	}
	return int(crc) % clusterSlots
}

// crc16Table is the CRC16-CCITT (XMODEM, polynomial 0x1021) table Redis
// Cluster hashes keys with.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// slotGroups splits keys by hash slot, keeping their order and their
// repetitions within each group (EXISTS k k counts k twice), and the
// groups in the order of their first key.
func slotGroups(keys []string) [][]string {
	index := make(map[int]int, len(keys))
	var groups [][]string
	for _, k := range keys {
		slot := KeySlot(k)
		i, ok := index[slot]
		if !ok {
			i = len(groups)
			index[slot] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], k)
	}
	return groups
}

// countBySlot sends the multi-key command name (UNLINK, EXISTS), whose
// reply is a count, once per hash slot of keys, in one cluster pipeline,
// and returns the sum of the replies. When a part fails, the first error
// is returned (translated, naming its key when the part had one) with the
// sum of the parts that succeeded.
func (s *Store) countBySlot(ctx context.Context, cc *redis.ClusterClient, name string, keys []string) (int64, error) {
	groups := slotGroups(keys)
	if len(groups) == 1 {
		return s.count(ctx, cc, name, keys)
	}
	pipe := cc.Pipeline()
	cmds := make([]*redis.IntCmd, len(groups))
	named := make([]string, len(groups)) // the key named in each part's errors
	for i, g := range groups {
		cmds[i] = redis.NewIntCmd(ctx, keyArgs(name, g)...)
		_ = pipe.Process(ctx, cmds[i])
		named[i] = msgKey(g)
	}
	return s.execCounts(ctx, pipe, name, cmds, named)
}

// count sends the multi-key command name with keys as one command.
func (s *Store) count(ctx context.Context, c redis.UniversalClient, name string, keys []string) (int64, error) {
	cmd := redis.NewIntCmd(ctx, keyArgs(name, keys)...)
	_ = c.Process(ctx, cmd)
	n, err := cmd.Result()
	if err != nil {
		return 0, s.fail(ctx, name, msgKey(keys), err)
	}
	return n, nil
}

// keyArgs returns the arguments of the command name over keys.
func keyArgs(name string, keys []string) []any {
	args := make([]any, 1+len(keys))
	args[0] = name
	for i, k := range keys {
		args[1+i] = k
	}
	return args
}

// scanMasters runs the SCAN loop of Scan on every master of the cluster in
// parallel and passes each reply's keys to emit, one call at a time. When
// emit fails, the other scans stop and its error is returned as is.
func (s *Store) scanMasters(ctx context.Context, cc *redis.ClusterClient, pattern string, batch int, emit func([]string) error) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		emitErr error
	)
	err := cc.ForEachMaster(sctx, func(nctx context.Context, node *redis.Client) error {
		return s.scanNode(nctx, node, pattern, batch, func(keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			if emitErr != nil {
				return emitErr // another node's batch failed: stop
			}
			if err := emit(keys); err != nil {
				emitErr = err
				cancel()
				return err
			}
			return nil
		})
	})
	mu.Lock()
	defer mu.Unlock()
	if emitErr != nil {
		return emitErr
	}
	return s.fail(ctx, "scan", pattern, err)
}

// pingMasters checks that every master of the cluster answers and reports
// cluster_state:ok (a master answers PING while the cluster refuses every
// command with CLUSTERDOWN).
func (s *Store) pingMasters(ctx context.Context, cc *redis.ClusterClient) error {
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		info, err := node.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%w: the cluster is down: master %s reports cluster_state:%s",
				domain.ErrRefused, node.Options().Addr, InfoField(info, "cluster_state"))
		}
		return nil
	})
}

// InfoField returns the value of the field name in an INFO or CLUSTER
// INFO reply ("name:value" lines), or "?" when there is none.
func InfoField(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return "?"
}

// watchTopology makes cc reload the cluster's layout (lazily: go-redis
// coalesces reloads and leaves 200 ms between two) whenever a command or a
// pipeline fails in a way that says the layout may have changed: a node
// that cannot be reached, CLUSTERDOWN, MASTERDOWN, LOADING. go-redis itself
// reloads only on MOVED, ASK and READONLY, and otherwise once a minute, so
// without this the slots of a master that died keep going to it long after
// its replica took over. NewCluster installs it.
func watchTopology(cc *redis.ClusterClient) { cc.AddHook(topologyWatch{cc}) }

// topologyWatch is the hook of watchTopology.
type topologyWatch struct{ cc *redis.ClusterClient }

func (h topologyWatch) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h topologyWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && layoutMayHaveChanged(err) {
			h.cc.ReloadState(ctx)
		}
		return err
	}
}

func (h topologyWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if cmd.Err() != nil && layoutMayHaveChanged(cmd.Err()) {
				h.cc.ReloadState(ctx)
				break
			}
		}
		return err
	}
}

// layoutMayHaveChanged reports whether err, the failure of a command on a
// cluster, may come from a change of the cluster's layout.
func layoutMayHaveChanged(err error) bool {
	if isReply(err) {
		msg := err.Error()
		for _, p := range []string{"CLUSTERDOWN", "MASTERDOWN", "LOADING"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return isNetworkError(err)
}
