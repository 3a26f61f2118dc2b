package redistest_test

import (
	"testing"
	"time"

	"github.com/rediscache/rediscache/tests/redistest"
)

func TestScratchTopology(t *testing.T) {
	start := time.Now()
	top := redistest.StartSentinel(t, redistest.WithModule())
	t.Logf("started in %v; master %s replica %s sentinels %v", time.Since(start), top.Master().Addr(), top.Replica().Addr(), top.SentinelAddrs())
	start = time.Now()
	m := top.Failover(t)
	t.Logf("failover in %v; new master %s", time.Since(start), m.Addr())
	start = time.Now()
	m = top.Failover(t)
	t.Logf("failover 2 in %v; new master %s", time.Since(start), m.Addr())
	start = time.Now()
	a := redistest.StartSentinel(t, redistest.WithSentinels(1), redistest.WithReplicas(0), redistest.WithPassword("dpw"), redistest.WithSentinelPassword("spw"))
	t.Logf("auth topology in %v: %v", time.Since(start), a.SentinelAddrs())
}
