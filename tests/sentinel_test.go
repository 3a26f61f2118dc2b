package tests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/conformance"
)

// sentinelConfig reaches the suite's Sentinel deployment.
func sentinelConfig() sentinel.Config {
	return sentinel.Config{
		MasterName:    sentinelTopology.MasterName(),
		SentinelAddrs: sentinelTopology.SentinelAddrs(),
	}
}

// flushSentinelMaster empties the current master (the replica follows).
func flushSentinelMaster(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	master := sentinelTopology.Master()
	if master == nil {
		return errors.New("the sentinels report no master")
	}
	_, err := master.Do("FLUSHALL")
	return err
}

// newSentinelPair returns a store built by newStore and a plain peer store
// on the suite's Sentinel deployment, each finding the master through the
// sentinels.
func newSentinelPair[S interface {
	ports.Store
	Close() error
}](newStore func(sentinel.Config, ...sentinel.Option) (S, error)) (S, *sentinel.Store, error) {
	var zero S
	if sentinelTopology == nil {
		return zero, nil, errors.New("sentinel topology not started (BeforeSuite did not run)")
	}
	store, err := newStore(sentinelConfig())
	if err != nil {
		return zero, nil, fmt.Errorf("store: %w", err)
	}
	peer, err := sentinel.New(sentinelConfig())
	if err != nil {
		return zero, nil, errors.Join(fmt.Errorf("peer: %w", err), store.Close())
	}
	return store, peer, nil
}

// sentinelFactory connects a store and a peer (another process's client)
// to the suite's Sentinel deployment.
func sentinelFactory(context.Context) (conformance.Backend, error) {
	store, peer, err := newSentinelPair(sentinel.New)
	if err != nil {
		return conformance.Backend{}, err
	}
	return conformance.Backend{
		Store:   store,
		Peer:    peer,
		Tracker: store,
		Flush:   flushSentinelMaster,
		Close:   func() error { return errors.Join(peer.Close(), store.Close()) },
	}, nil
}

// The same registrations as for standalone (standalone_test.go,
// tracked_test.go), on the Sentinel deployment.
var (
	_ = conformance.Describe("sentinel", sentinelFactory, conformance.Features{Suggest: true},
		Label("redis", "sentinel"))
	_ = conformance.Describe("clientcache over sentinel", clientCacheFactory(sentinelFactory),
		conformance.Features{Suggest: true}, Label("redis", "sentinel", "clientcache"))
	_ = describeClientCache("sentinel", func(context.Context) ccBackend {
		GinkgoHelper()
		store, peer, err := newSentinelPair(sentinel.New)
		Expect(err).NotTo(HaveOccurred())
		return ccBackend{
			store: store,
			peer:  peer,
			flush: flushSentinelMaster,
			close: func() error { return errors.Join(peer.Close(), store.Close()) },
		}
	}, Label("redis", "sentinel", "clientcache"))
)

// Setup from configuration: the Go form of Frappe's setup_cache on a
// site_config with redis_cache_sentinel_enabled.
var _ = Describe("fxmodule.NewBackend on Sentinel", Label("redis", "sentinel"), func() {
	It("builds a sentinel store from Frappe's settings, with an IPv6 sentinel address", func(ctx SpecContext) {
		addrs := sentinelTopology.SentinelAddrs()
		// The sentinels also listen on ::1 (when the host has IPv6
		// loopback); the others still answer when it has not.
		_, port, err := net.SplitHostPort(addrs[0])
		Expect(err).NotTo(HaveOccurred())
		addrs[0] = net.JoinHostPort("::1", port)
		Expect(addrs[0]).To(Equal("[::1]:" + port))

		b, err := fxmodule.NewBackend(fxmodule.Config{
			Site:            "site1.local",
			SentinelEnabled: true,
			Sentinels:       addrs,
			MasterService:   sentinelTopology.MasterName(),
			DialTimeout:     time.Second,
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		Expect(b.Name).To(Equal(fxmodule.BackendSentinel))
		Expect(b.Pinger.Ping(ctx)).To(Succeed())

		c, err := app.New(b.Store, app.Config{Site: conformance.Prefix() + "site"})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Connected(ctx)).To(BeTrue())
		Expect(c.SetValue(ctx, "answer", 42)).To(Succeed())
		key, err := c.MakeKey("answer")
		Expect(err).NotTo(HaveOccurred())
		Expect(sentinelTopology.Master().Do("GET", key)).To(Equal(strconv.Itoa(42)))
	}, SpecTimeout(30*time.Second))

	It("reports a missing master service and bad sentinel addresses before connecting", func() {
		_, err := fxmodule.NewBackend(fxmodule.Config{
			SentinelEnabled:  true,
			Sentinels:        []string{"::1:26379", "host:port"},
			SentinelPassword: "do-not-show",
		}, nil)
		Expect(err).To(MatchError(ContainSubstring("redis_cache_master_service (REDIS_CACHE_MASTER_SERVICE)")))
		Expect(err).To(MatchError(ContainSubstring("redis_cache_sentinels (REDIS_CACHE_SENTINELS) entry 1")))
		Expect(err).To(MatchError(ContainSubstring(`port "port"`)))
		Expect(err.Error()).NotTo(ContainSubstring("do-not-show"))
	})
})
