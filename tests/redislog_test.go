package tests

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/redistest"
)

// go-redis' own log lines (redis.SetLogger, process-wide) go through the
// host's zap logger while an fx app with Module runs.
var _ = Describe("go-redis log lines in an fx app", Label("redis", "sentinel", "fx"), Serial, func() {
	goRedisLines := func(logs *observer.ObservedLogs) *observer.ObservedLogs {
		return logs.Filter(func(e observer.LoggedEntry) bool { return e.LoggerName == "rediscache.go-redis" })
	}

	It("logs the master a Sentinel client selected at Info, through the host's logger", func() {
		core, logs := observer.New(zapcore.DebugLevel)
		var store ports.Store
		fxApp := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(zap.New(core)), fx.Supply(fxmodule.Config{
			Site:            "site1",
			SentinelEnabled: true,
			Sentinels:       sentinelTopology.SentinelAddrs(),
			MasterService:   sentinelTopology.MasterName(),
		}), fxmodule.Module, fx.Populate(&store))
		fxApp.RequireStart() // pings: the client asks the sentinels for the master
		selected := goRedisLines(logs).FilterMessageSnippet("sentinel: selected addr").All()
		Expect(selected).NotTo(BeEmpty())
		Expect(selected[0].Level).To(Equal(zapcore.InfoLevel))
		Expect(selected[0].Message).To(ContainSubstring(sentinelTopology.Master().Addr()))
		fxApp.RequireStop()
	})

	It("logs a failed dial at Warn, and stops routing when the app stops", func() {
		closed := redistest.ClosedAddr(GinkgoT())

		core, logs := observer.New(zapcore.DebugLevel)
		var store ports.Store
		fxApp := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(zap.New(core)), fx.Supply(fxmodule.Config{
			Site: "site1", RedisCache: "redis://" + closed, DialTimeout: time.Second,
		}), fxmodule.Module, fx.Populate(&store))
		fxApp.RequireStart() // the ping fails; the host starts anyway
		dials := goRedisLines(logs).FilterMessageSnippet("failed to dial")
		Expect(dials.Len()).To(BeNumerically(">=", 1))
		Expect(dials.All()[0].Level).To(Equal(zapcore.WarnLevel))
		Expect(dials.All()[0].Message).To(ContainSubstring(closed))
		fxApp.RequireStop()

		// Another app, with KeepRedisLogger: nothing of go-redis' reaches
		// its logger (go-redis writes to standard error again).
		core, logs = observer.New(zapcore.DebugLevel)
		fxApp = fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(zap.New(core)), fx.Supply(fxmodule.Config{
			Site: "site1", RedisCache: "redis://" + closed, DialTimeout: time.Second,
		}), fxmodule.Module, fxmodule.KeepRedisLogger, fx.Populate(&store))
		fxApp.RequireStart()
		fxApp.RequireStop()
		Expect(logs.FilterMessageSnippet("cache backend not reachable").Len()).To(Equal(1), "the module's own warning")
		Expect(goRedisLines(logs).Len()).To(BeZero())
	})
})
