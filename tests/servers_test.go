package tests

import (
	"context"
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
)

// standaloneServer is the one redis-server (with the RediSearch module) that
// every standalone spec of this test process shares; specs isolate
// themselves with conformance.Prefix. Under `ginkgo -p` each parallel
// process starts its own.
var standaloneServer *redistest.Server

// sentinelTopology is the Sentinel deployment every sentinel spec of this
// test process shares: a master and a replica (both with the RediSearch
// module) and three sentinels. The failover spec moves the master; every
// other spec finds it through the sentinels (Topology.Master), never by a
// fixed address.
var sentinelTopology *redistest.Topology

// clusterNodes is the Redis Cluster every cluster spec of this test process
// shares: three masters and three replicas, RediSearch on each. The fault
// specs kill and fail over its nodes, and leave it whole (3 + 3, settled)
// when they end; every other spec finds a key's master through it
// (Cluster.MasterFor), never by a fixed address.
var clusterNodes *redistest.Cluster

// The suite's only BeforeSuite: it starts every server the backends need.
// redistest registers each shutdown with GinkgoT().Cleanup, which inside
// BeforeSuite is a DeferCleanup that runs once, after the last spec.
var _ = BeforeSuite(func() {
	standaloneServer = redistest.StartServer(GinkgoT(), redistest.WithModule())
	sentinelTopology = redistest.StartSentinel(GinkgoT(), redistest.WithModule())
	clusterNodes = redistest.StartCluster(GinkgoT(), redistest.WithModule())
	noModuleServer = redistest.StartServer(GinkgoT()) // Suggest without the module, below
})

// --- Suggest without the RediSearch module -----------------------------------

// noModuleServer is a redis-server started without the RediSearch module,
// on which every Suggest method must fail with domain.ErrNotSupported.
var noModuleServer *redistest.Server

// standaloneNoModuleFactory connects a standalone store to noModuleServer:
// the conformance.Features.NoModule of the standalone backend.
func standaloneNoModuleFactory(context.Context) (conformance.Backend, error) {
	if noModuleServer == nil {
		return conformance.Backend{}, errors.New("server without the module not started (BeforeSuite did not run)")
	}
	store, err := standalone.New(standalone.Config{Addr: noModuleServer.Addr()})
	if err != nil {
		return conformance.Backend{}, fmt.Errorf("store: %w", err)
	}
	return conformance.Backend{Store: store, Close: store.Close}, nil
}
