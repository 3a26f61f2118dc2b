package tests

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/ports"
)

var _ = Describe("fxmodule", Label("memory", "fx"), func() {
	ctx := context.Background()
	memoryConfig := fxmodule.Config{Backend: fxmodule.BackendMemory, Site: "site1"}

	It("starts and stops cleanly, leaving no goroutine behind", func() {
		before := goleak.IgnoreCurrent()
		var cache *app.Cache
		var kv ports.KeyValue
		var search *app.Search
		fxApp := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(memoryConfig), fxmodule.Module,
			fx.Populate(&cache, &kv, &search))
		fxApp.RequireStart()
		Expect(cache.SetValue(ctx, "k", "v")).To(Succeed())
		Expect(kv.Get(ctx, "site1|k")).To(Equal([]byte(`"v"`)))
		Expect(search.Index()).To(Equal("site1|idx"))
		fxApp.RequireStop()
		Expect(goleak.Find(before)).To(Succeed())
	})

	It("puts the ClientCache in front of the host's Cache, on the lifecycle", func() {
		before := goleak.IgnoreCurrent()
		var cache *app.Cache
		var cc *clientcache.ClientCache
		fxApp := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(memoryConfig),
			fx.Supply(clientcache.Config{MaxEntries: 10}),
			fxmodule.Module, fxmodule.ClientCache, fx.Populate(&cache, &cc))
		fxApp.RequireStart()
		Expect(cc.Healthy()).To(BeTrue())
		Expect(cache.SetValue(ctx, "k", "v")).To(Succeed())
		for range 3 {
			Expect(app.GetValue[string](ctx, cache, "k")).To(Equal("v"))
		}
		st := cc.Statistics()
		Expect(st.Capacity).To(Equal(10))
		Expect(st.Hits).To(BeNumerically(">=", 2), "reads through the host's Cache hit the local copy")
		fxApp.RequireStop()
		Expect(cc.Healthy()).To(BeFalse())
		Expect(goleak.Find(before)).To(Succeed())
	})

	It("logs through the host's logger, and runs without one", func() {
		core, logs := observer.New(zap.InfoLevel)
		var cc *clientcache.ClientCache
		fxApp := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(memoryConfig), fx.Supply(zap.New(core)),
			fxmodule.Module, fx.Populate(&cc))
		fxApp.RequireStart()
		Expect(logs.FilterMessageSnippet("client cache on").Len()).To(Equal(1))
		fxApp.RequireStop()
	})

	It("fails at start with a clear error when the config is missing or wrong", func() {
		var cache *app.Cache
		err := fx.New(fx.NopLogger, fx.Supply(fxmodule.Config{}), fxmodule.Module, fx.Populate(&cache)).Err()
		Expect(err).To(MatchError(domain.ErrInvalidArgument))
		Expect(err.Error()).To(ContainSubstring("REDIS_CACHE"))

		err = fx.New(fx.NopLogger, fx.Supply(fxmodule.Config{Backend: fxmodule.BackendMemory}), fxmodule.Module, fx.Populate(&cache)).Err()
		Expect(err).To(MatchError(domain.ErrInvalidArgument))
		Expect(err.Error()).To(ContainSubstring("Site"))

		err = fx.New(fx.NopLogger, fx.Supply(fxmodule.Config{Backend: "mongo", Site: "s"}), fxmodule.Module, fx.Populate(&cache)).Err()
		Expect(err).To(MatchError(domain.ErrInvalidArgument))
	})

	It("swaps any backend for the in-memory one with UseMemory", func() {
		var cache *app.Cache
		var b *fxmodule.Backend
		cfg := fxmodule.Config{RedisCache: "redis://127.0.0.1:1", Site: "s"} // nothing listens there
		fxApp := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(cfg), fxmodule.Module, fxmodule.UseMemory,
			fx.Populate(&cache, &b))
		fxApp.RequireStart()
		Expect(b.Name).To(Equal(fxmodule.BackendMemory))
		Expect(cache.SetValue(ctx, "k", 1)).To(Succeed())
		fxApp.RequireStop()
	})
})
