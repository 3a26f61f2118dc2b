package tests

import (
	"context"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/storetest"
)

// Frappe's connection-failure policy, the Go way: reads with a generator
// still answer, every other call returns a typed error, nothing panics, and
// the one absorbed failure is logged once.
var _ = Describe("Cache with the backend down", Label("memory"), func() {
	var (
		ctx   context.Context
		store *storetest.Store
		c     *app.Cache
		logs  *observer.ObservedLogs
	)
	BeforeEach(func() {
		ctx = context.Background()
		mem := memory.New(memory.Config{})
		DeferCleanup(mem.Close)
		store = storetest.Wrap(mem)
		var core = zap.NewNop().Core()
		core, logs = observer.New(zap.InfoLevel)
		var err error
		c, err = app.New(store, app.Config{Site: "site"}, app.WithLogger(zap.New(core)))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.SetValue(ctx, "k", "stored")).To(Succeed())
		store.SetDown(true)
	})

	It("still returns a generated value, logging the outage once, not per call", func() {
		for range 3 {
			v, err := app.GetOrGenerate(ctx, c, "k", func(context.Context) (string, error) { return "generated", nil })
			Expect(err).NotTo(HaveOccurred())
			Expect(v).To(Equal("generated"))
			h, err := app.HGetOrGenerate(ctx, c, "h", "f", func(context.Context) (int, error) { return 7, nil })
			Expect(err).NotTo(HaveOccurred())
			Expect(h).To(Equal(7))
		}
		Expect(logs.Len()).To(Equal(1))
		Expect(logs.All()[0].Level).To(Equal(zap.WarnLevel))

		// The first successful store ends the episode, with one Info line
		// counting the values served uncached...
		store.SetDown(false)
		_, err := app.GetOrGenerate(ctx, c, "fresh", func(context.Context) (int, error) { return 1, nil })
		Expect(err).NotTo(HaveOccurred())
		Expect(logs.Len()).To(Equal(2))
		back := logs.All()[1]
		Expect(back.Level).To(Equal(zap.InfoLevel))
		Expect(back.ContextMap()).To(HaveKeyWithValue("served_uncached", int64(6)))

		// ...and the next outage is logged again, once.
		store.SetDown(true)
		for range 2 {
			_, err = app.GetOrGenerate(ctx, c, "k", func(context.Context) (string, error) { return "generated", nil })
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(logs.Len()).To(Equal(3))
	})

	It("returns ErrUnavailable from every other call, without panicking", func() {
		calls := map[string]func() error{
			"SetValue":    func() error { return c.SetValue(ctx, "k", 1) },
			"GetValue":    func() error { _, err := app.GetValue[string](ctx, c, "k"); return err },
			"ExpireKey":   func() error { _, err := c.ExpireKey(ctx, "k", 0); return err },
			"Exists":      func() error { _, err := c.Exists(ctx, "k"); return err },
			"GetKeys":     func() error { _, err := c.GetKeys(ctx, ""); return err },
			"GetAll":      func() error { _, err := app.GetAll[string](ctx, c, ""); return err },
			"DeleteKeys":  func() error { _, err := c.DeleteKeys(ctx, ""); return err },
			"DeleteValue": func() error { return c.DeleteValue(ctx, "k") },
			"HSet":        func() error { return c.HSet(ctx, "h", "f", 1) },
			"HGet":        func() error { _, err := app.HGet[int](ctx, c, "h", "f"); return err },
			"HDel":        func() error { _, err := c.HDel(ctx, "h", []string{"f"}); return err },
			"HDelNames":   func() error { _, err := c.HDelNames(ctx, []string{"h"}, "f"); return err },
			"HDelKeys":    func() error { _, err := c.HDelKeys(ctx, "h", "f"); return err },
			"HKeys":       func() error { _, err := c.HKeys(ctx, "h"); return err },
			"HExists":     func() error { _, err := c.HExists(ctx, "h", "f"); return err },
			"HGetAll":     func() error { _, err := app.HGetAll[int](ctx, c, "h"); return err },
			"LPush":       func() error { _, err := c.LPush(ctx, "l", "x"); return err },
			"RPop":        func() error { _, err := c.RPop(ctx, "l"); return err },
			"LRange":      func() error { _, err := c.LRange(ctx, "l", 0, -1); return err },
			"SAdd":        func() error { _, err := c.SAdd(ctx, "s", "x"); return err },
			"SRandMember": func() error { _, err := c.SRandMember(ctx, "s", 2); return err },
			"SugAdd":      func() error { _, err := c.FT("").SugAdd(ctx, "d", domain.Suggestion{String: "x"}); return err },
			"Ping":        func() error { return c.Ping(ctx) },
		}
		for name, call := range calls {
			Expect(call()).To(MatchError(domain.ErrUnavailable), name)
		}
		Expect(c.Connected(ctx)).To(BeFalse())
		Expect(logs.Len()).To(BeZero(), "returned errors are not logged")
	})

	It("serves the stored value again once the backend is back", func() {
		store.SetDown(false)
		Expect(app.GetValue[string](ctx, c, "k")).To(Equal("stored"))
	})

	It("keeps the generator's own error", func() {
		boom := errors.New("boom")
		_, err := app.GetOrGenerate(ctx, c, "k", func(context.Context) (string, error) { return "", boom })
		Expect(err).To(MatchError(boom))
	})
})
