package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/domain"
)

// Config describes a Redis Cluster: some of its nodes, from which the store
// discovers the others, and how to connect to every node. Addrs is
// required; every other zero field means its default.
type Config struct {
	// Addrs are seed nodes of the cluster as "host:port":
	// "10.0.0.5:6379", "redis-0.cache.internal:6379", or an IPv6 literal in
	// brackets, "[fd00::5]:6379". The store asks them in turn for the
	// cluster's layout (CLUSTER SLOTS) and then talks to every master it
	// reports, following the layout as it changes (failovers, slots
	// moved, nodes added). Masters or replicas, any will do; give a few, so
	// that the store starts while one is down. Required: at least one.
	Addrs []string
	// Connection holds the credentials (the same on every node), TLS,
	// timeouts and pool settings, shared with the other Redis adapters.
	// On a cluster PoolSize is per node, and MaxRetries (retries on one
	// node after a network error) defaults to none: MaxRedirects does the
	// retrying, towards whichever node serves the slot by then. Default:
	// the zero connection.Options.
	Connection connection.Options
	// MaxRedirects is how many times a command is sent again when a node
	// answers MOVED or ASK (its slot moved), CLUSTERDOWN or TRYAGAIN, or
	// cannot be reached (a failover under way), each time to the node that
	// serves the slot by then, after a short backoff for the errors. -1
	// disables it. Default: go-redis' default, 3.
	MaxRedirects int
	// TopologyRefresh is how often the client-side caching asks every
	// master which slots it serves (CLUSTER NODES). It bounds how long a
	// locally cached value can outlive a move of its slot that nothing
	// else revealed (no MOVED or ASK on a tracked read, no failover seen):
	// a MIGRATE ... COPY, a slot that moved while empty. Failovers are
	// seen at once, without waiting for it. Default (0):
	// DefaultTopologyRefresh, one second.
	TopologyRefresh time.Duration
	// FailoverProbe is how often the client-side caching asks each
	// replica of the masters it tracks for its role (ROLE), so that a
	// failover (CLUSTER FAILOVER, or a replica taking over a failed
	// master) is seen within a few milliseconds of the promotion. Without
	// it, it is seen when the old master learns it over the cluster bus
	// (6 to 45 ms later on Redis 7.0, while the old master still serves
	// its old values). The cost is one small command per replica per
	// interval per process (200 per second at the default). Default (0):
	// DefaultFailoverProbe, 5 ms; negative: no probes.
	FailoverProbe time.Duration
}

// DefaultFailoverProbe is the default Config.FailoverProbe.
const DefaultFailoverProbe = 5 * time.Millisecond

// DefaultTopologyRefresh is the default Config.TopologyRefresh.
const DefaultTopologyRefresh = time.Second

// Validate reports every problem of c at once, each matching
// domain.ErrInvalidArgument and naming the field. Messages never contain a
// password.
func (c Config) Validate() error {
	_, err := c.options()
	return err
}

// options merges c and the defaults into go-redis cluster options, with the
// seed addresses normalised, or reports every problem.
func (c Config) options() (*redis.ClusterOptions, error) {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("rediscache: cluster config: %w: "+format,
			append([]any{domain.ErrInvalidArgument}, args...)...))
	}
	if len(c.Addrs) == 0 {
		add("Addrs is empty: give at least one node of the cluster as host:port")
	}
	addrs, errs := normalizeAddrs(c.Addrs)
	for _, err := range errs {
		add("Addrs%v", err)
	}
	for _, err := range c.Connection.Validate() {
		problems = append(problems, fmt.Errorf("rediscache: cluster config: Connection: %w", err))
	}
	if c.MaxRedirects < -1 {
		add("MaxRedirects %d below -1", c.MaxRedirects)
	}
	if c.TopologyRefresh < 0 {
		add("TopologyRefresh %v is negative", c.TopologyRefresh)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	u := c.Connection.Universal()
	u.Addrs = addrs
	u.MaxRedirects = c.MaxRedirects
	return u.Cluster(), nil
}

// normalizeAddrs returns addrs normalised (connection.NormalizeAddr), without
// repetitions, and an error per bad address that starts with its index,
// "[i]: ...".
func normalizeAddrs(addrs []string) ([]string, []error) {
	out := make([]string, 0, len(addrs))
	var errs []error
	for i, a := range addrs {
		norm, err := connection.NormalizeAddr(strings.TrimSpace(a))
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		if !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, errs
}

// view is the printable form of c: Connection.Password redacted.
func (c Config) view() connection.View {
	return connection.View{Type: "cluster.Config", Fields: []connection.Field{
		{Name: "Addrs", Value: c.Addrs},
		{Name: "Connection", Value: c.Connection.View()},
		{Name: "MaxRedirects", Value: c.MaxRedirects},
		{Name: "TopologyRefresh", Value: c.TopologyRefresh},
		{Name: "FailoverProbe", Value: c.FailoverProbe},
	}}
}

// String shows c with Connection.Password redacted (%v, %+v, %s).
func (c Config) String() string { return c.view().String() }

// GoString is String in Go-like syntax (%#v).
func (c Config) GoString() string { return c.view().GoString() }

// MarshalLogObject logs c as zap.Object or zap.Any do, the password
// redacted. (zap.Reflect would bypass it.)
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return c.view().MarshalLogObject(enc)
}
