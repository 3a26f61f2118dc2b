package sentinel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var (
	_ ports.Store            = (*Store)(nil)
	_ ports.Pinger           = (*Store)(nil)
	_ ports.Tracker          = (*Store)(nil)
	_ ports.TrackingSessions = (*Store)(nil)
	_ ports.Broadcast        = (*Store)(nil)
)

// Store is a store on the master of a Sentinel deployment. It implements
// the data ports ([ports.KeyValue], [ports.Hash], [ports.Set], [ports.List],
// [ports.Suggest]), [ports.Pinger] ([Store.Ping] says what is wrong),
// [ports.Tracker] (client tracking on the master for the ClientCache:
// Track, Fetch, Tracking, TrackingID) and [ports.Broadcast] (Publish,
// Subscribe, on the master). It follows failovers as soon as the
// sentinels begin them (see the package documentation). Close ends the
// failover watch, tracking and subscriptions and closes the connections;
// it is idempotent, and calls made after it fail with an error matching
// domain.ErrClosed. Client returns the go-redis failover client (a
// *redis.Client) the commands go through now (a failover replaces it), for
// features beyond the ports and for tests.
//
// The port interfaces document the behaviour; every error matches one of
// the domain errors (or context.Canceled / context.DeadlineExceeded). A
// Store is safe for concurrent use.
type Store struct {
	rs *redisstore.Store
	d  *deployment
}

// Option configures New.
type Option interface {
	apply(*options)
}

type options struct {
	logger *zap.Logger
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger sets the logger for connection-level events: the master the
// store connected to (Debug), a change of master after a failover (Info),
// a lost subscription to a sentinel (Warn; failed attempts at Debug). The
// default, and a nil logger, is zap.NewNop().
func WithLogger(logger *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if logger != nil {
			o.logger = logger
		}
	})
}

func buildOptions(opts []Option) options {
	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// New returns a Store for the deployment described by cfg. It validates cfg
// (see [Config.Validate]) but does not connect: call Ping to check the
// sentinels and the master. The failover watch (see the package
// documentation) starts with the first connection to the master, and ends
// at Close.
func New(cfg Config, opts ...Option) (*Store, error) {
	o := buildOptions(opts)
	fo, err := cfg.options()
	if err != nil {
		return nil, err
	}
	d := newDeployment(fo, o.logger)
	d.logCreated("sentinel store created")
	rs := redisstore.NewTracked(d.newClient,
		redisstore.WithLogger(o.logger),
		redisstore.WithEndpoint(d.endpoint()),
		redisstore.WithTrackingPool(cfg.Connection.WithDefaults().TrackingPoolSize),
		redisstore.WithTelemetry(cfg.Connection.MeterProvider, cfg.Connection.TracerProvider, cfg.Connection.CommandSpans),
	)
	d.watch.setFailover(func() { redisstore.Failover(rs) })
	return &Store{rs: rs, d: d}, nil
}

// Close stops the failover watch, ends tracking and subscriptions and
// closes the connections. It is idempotent: later calls return the same
// error. Calls made after Close fail with an error matching
// domain.ErrClosed.
func (s *Store) Close() error {
	s.d.watch.close()
	return s.rs.Close()
}

// Ping checks that the master answers. When it does not, Ping asks every
// sentinel and then the master they report, and its error, matching
// domain.ErrUnavailable, says what is wrong:
//
//   - no sentinel reachable, naming the addresses tried and why;
//   - sentinels don't know the master (a wrong MasterName);
//   - the sentinels rejected the credentials (SentinelUsername,
//     SentinelPassword);
//   - the master rejected the credentials (Username, Password);
//   - the master the sentinels report does not answer.
//
// Messages never contain a password. Ping returns within 2 × (DialTimeout +
// ReadTimeout), or when ctx ends if that is sooner.
func (s *Store) Ping(ctx context.Context) error {
	return s.d.ping(ctx, s.rs.Ping)
}

// deployment is what a store knows about its Sentinel deployment: the
// options every client is built from, and the master last connected to.
type deployment struct {
	opts   redis.FailoverOptions // validated; never modified
	logger *zap.Logger
	watch  *watcher
	// dial is the Dialer of every failover client: go-redis' own (plain
	// TCP or TLS, DialTimeout, keep-alive), to the address watch.route
	// picks for the one go-redis resolved.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	master string // address of the master last connected to, for logs
}

func newDeployment(fo *redis.FailoverOptions, logger *zap.Logger) *deployment {
	d := &deployment{opts: *fo, logger: logger}
	d.watch = newWatcher(d)
	base := redis.NewDialer(&redis.Options{DialTimeout: fo.DialTimeout, TLSConfig: fo.TLSConfig})
	d.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return base(ctx, network, d.watch.route(addr))
	}
	return d
}

// endpoint names the deployment in messages.
func (d *deployment) endpoint() string {
	return fmt.Sprintf("master %q", d.opts.MasterName)
}

func (d *deployment) logCreated(msg string) {
	d.logger.Debug(msg,
		zap.String("master", d.opts.MasterName),
		zap.Strings("sentinels", d.opts.SentinelAddrs),
		zap.Int("db", d.opts.DB),
		zap.Int("protocol", d.opts.Protocol),
		zap.Bool("tls", d.opts.TLSConfig != nil))
}

// newClient builds a failover client (a redisstore.ClientFactory).
// onConnect (nil for none) runs on every connection to the master, never on
// the sentinel connections the client opens to find it; poolSize > 0 asks
// for a dedicated client: that pool size, no retries.
func (d *deployment) newClient(onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
	fo := d.opts // go-redis keeps the pointer: every client gets its own copy
	fo.SentinelAddrs = slices.Clone(d.opts.SentinelAddrs)
	fo.OnConnect = masterOnly(onConnect)
	// go-redis hands the Dialer the master's address it resolved (and the
	// sentinels' addresses, which route leaves alone).
	fo.Dialer = d.dial
	if poolSize > 0 {
		fo.PoolSize = poolSize
		fo.MinIdleConns, fo.MaxIdleConns, fo.MaxRetries = 0, 0, -1
		fo.PipelinePoolSize = -1 // pipelines on the one connection
	}
	c := redis.NewFailoverClient(&fo)
	c.AddHook(masterHook{d})
	return c
}

// failoverClientPrefix starts the String() of the connections go-redis'
// failover client opens to the master ("Redis<FailoverClient db:0>"); its
// sentinel connections name their sentinel's address instead.
const failoverClientPrefix = "Redis<FailoverClient "

// masterOnly wraps onConnect so that it runs on master connections only:
// go-redis also hands FailoverOptions.OnConnect to the clients it opens to
// the sentinels, which have no CLIENT TRACKING and whose connection IDs mean
// nothing on the master.
func masterOnly(onConnect func(context.Context, *redis.Conn) error) func(context.Context, *redis.Conn) error {
	if onConnect == nil {
		return nil
	}
	return func(ctx context.Context, cn *redis.Conn) error {
		if !strings.HasPrefix(cn.String(), failoverClientPrefix) {
			return nil
		}
		return onConnect(ctx, cn)
	}
}

// masterHook sees every connection a failover client dials to the master.
// It logs a change of master, and turns go-redis' failures to learn the
// master's address from the sentinels into errors that say what is wrong
// and match domain.ErrUnavailable: go-redis reports an unknown master name
// as redis.Nil, which would otherwise read as domain.ErrNotFound.
type masterHook struct{ d *deployment }

func (h masterHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			if isLookupFailure(err) {
				return nil, h.d.lookupError(err)
			}
			return nil, err
		}
		h.d.connected(conn.RemoteAddr().String())
		return conn, nil
	}
}

func (masterHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (masterHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// isLookupFailure recognises go-redis' failure to get the master's address
// from any sentinel, as opposed to a failure to dial the master itself.
func isLookupFailure(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "redis: all sentinels specified in configuration are unreachable") ||
		strings.HasPrefix(msg, "redis: no sentinels configured")
}

// lookupError describes why no sentinel gave the master's address. It
// matches domain.ErrUnavailable only (domain.ErrRefused too when the
// sentinels rejected the credentials): the go-redis error is summarised in
// the message, not kept in the chain (it may hold redis.Nil).
type lookupError struct {
	msg  string
	kind error // domain.ErrUnavailable or domain.ErrRefused
}

func (e *lookupError) Error() string { return e.msg }
func (e *lookupError) Unwrap() error { return e.kind }

// lookupError classifies the answers of the sentinels in err (the joined
// errors of go-redis' lookup).
func (d *deployment) lookupError(err error) error {
	answers := joined(err)
	for _, a := range answers {
		if errors.Is(a, redis.Nil) {
			return d.unknownMaster()
		}
	}
	for _, a := range answers {
		if redisstore.IsAuthError(a) {
			return d.sentinelAuth(d.opts.SentinelAddrs)
		}
	}
	details := make([]string, 0, len(answers))
	for _, a := range answers {
		if m := a.Error(); !slices.Contains(details, m) {
			details = append(details, m)
		}
	}
	return d.noSentinel(d.opts.SentinelAddrs, details)
}

func (d *deployment) unknownMaster() error {
	return &lookupError{fmt.Sprintf("rediscache: sentinel: %v: sentinels don't know master %q (asked %s): check the master name",
		domain.ErrUnavailable, d.opts.MasterName, strings.Join(d.opts.SentinelAddrs, ", ")), domain.ErrUnavailable}
}

func (d *deployment) sentinelAuth(addrs []string) error {
	return &lookupError{fmt.Sprintf("rediscache: sentinel: %v: sentinel %s rejected the credentials: authentication failed (check the sentinel username and password)",
		domain.ErrRefused, strings.Join(addrs, ", ")), domain.ErrRefused}
}

func (d *deployment) noSentinel(addrs, details []string) error {
	return &lookupError{fmt.Sprintf("rediscache: sentinel: %v: no sentinel reachable (tried %s): %s",
		domain.ErrUnavailable, strings.Join(addrs, ", "), strings.Join(details, "; ")), domain.ErrUnavailable}
}

// joined returns the errors joined inside err (the per-sentinel answers of
// go-redis' lookup), or err itself.
func joined(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}

// connected records the master a connection was opened to, and logs a
// change. The first connection starts the failover watch.
func (d *deployment) connected(addr string) {
	d.watch.start()
	d.mu.Lock()
	prev := d.master
	d.master = addr
	d.mu.Unlock()
	switch {
	case prev == "":
		d.logger.Debug("connected to master", zap.String("master", d.opts.MasterName), zap.String("addr", addr))
	case prev != addr:
		d.logger.Info("master changed: following the failover",
			zap.String("master", d.opts.MasterName), zap.String("from", prev), zap.String("to", addr))
	}
}

// ping runs the store's own ping and, when it fails, the diagnosis of
// diagnose, each within DialTimeout + ReadTimeout (see
// redisstore.DiagnosedPing).
func (d *deployment) ping(ctx context.Context, ping func(context.Context) error) error {
	return redisstore.DiagnosedPing(ctx, d.opts.DialTimeout+d.opts.ReadTimeout, d.endpoint(), ping, d.diagnose)
}

// diagnose asks every configured sentinel for the master, then the master
// for a PING, with clients of their own, and returns what is wrong, or nil
// when everything answers (or ctx ended first).
func (d *deployment) diagnose(ctx context.Context) error {
	addrs := d.opts.SentinelAddrs
	type answer struct {
		master string
		err    error
	}
	answers := make([]answer, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			answers[i].master, answers[i].err = d.askSentinel(ctx, addr)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}

	var master, from string
	var unknown, refused, failed []string
	for i, a := range answers {
		switch {
		case a.err == nil:
			if master == "" {
				master, from = a.master, addrs[i]
			}
		case errors.Is(a.err, redis.Nil):
			unknown = append(unknown, addrs[i])
		case redisstore.IsAuthError(a.err):
			refused = append(refused, addrs[i])
		case isUnknownCommand(a.err):
			failed = append(failed, fmt.Sprintf("%s is not a sentinel (%v)", addrs[i], a.err))
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", addrs[i], a.err))
		}
	}
	switch {
	case master != "":
	case len(unknown) > 0:
		return d.unknownMaster()
	case len(refused) > 0:
		return d.sentinelAuth(refused)
	default:
		return d.noSentinel(addrs, failed)
	}

	err := d.askMaster(ctx, master)
	switch {
	case err == nil || ctx.Err() != nil:
		return nil
	case redisstore.IsAuthError(err):
		return fmt.Errorf("rediscache: sentinel: %w: master %q at %s rejected the credentials: authentication failed (check the master username and password)",
			domain.ErrRefused, d.opts.MasterName, master)
	}
	return fmt.Errorf("rediscache: sentinel: %w: master %q at %s (reported by sentinel %s) does not answer: %v",
		domain.ErrUnavailable, d.opts.MasterName, master, from, err)
}

// askSentinel asks the sentinel at addr for the master's address.
func (d *deployment) askSentinel(ctx context.Context, addr string) (string, error) {
	c := redis.NewSentinelClient(d.sentinelOptions(addr))
	defer c.Close()
	hp, err := c.GetMasterAddrByName(ctx, d.opts.MasterName).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("unexpected reply %q", hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// askMaster sends PING to the master at addr, with the master credentials.
func (d *deployment) askMaster(ctx context.Context, addr string) error {
	c := redis.NewClient(d.nodeOptions(addr))
	defer c.Close()
	return c.Ping(ctx).Err()
}

// sentinelOptions are the options of a one-connection client of the
// sentinel at addr, with the sentinel credentials, no retries.
func (d *deployment) sentinelOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:            addr,
		Username:        d.opts.SentinelUsername,
		Password:        d.opts.SentinelPassword,
		TLSConfig:       d.opts.TLSConfig,
		DialTimeout:     d.opts.DialTimeout,
		ReadTimeout:     d.opts.ReadTimeout,
		WriteTimeout:    d.opts.WriteTimeout,
		PoolSize:        1,
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	}
}

// nodeOptions are the options of a one-connection client of the data node
// at addr, with the master credentials, no retries.
func (d *deployment) nodeOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:            addr,
		Username:        d.opts.Username,
		Password:        d.opts.Password,
		DB:              d.opts.DB,
		Protocol:        d.opts.Protocol,
		TLSConfig:       d.opts.TLSConfig,
		DialTimeout:     d.opts.DialTimeout,
		ReadTimeout:     d.opts.ReadTimeout,
		WriteTimeout:    d.opts.WriteTimeout,
		PoolSize:        1,
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	}
}

// isUnknownCommand recognises the reply of a server that is not a sentinel
// to SENTINEL GET-MASTER-ADDR-BY-NAME.
func isUnknownCommand(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(strings.ToLower(rerr.Error()), "err unknown command")
}
