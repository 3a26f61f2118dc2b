package tests

// A property: for generated passwords holding / # ? @ : % & = + a space and
// Unicode, no error text, no log line (zap observer: the adapters', the
// module's and go-redis' own) and no formatted config (%v, %+v, %#v, %s, zap)
// contains the password or any 4-rune piece of it, across URL parsing,
// validation, dial failure and authentication failure, standalone and
// Sentinel, on real servers with requirepass.

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/redistest"
	"github.com/rediscache/rediscache/tests/secrettest"
)

// leakCheck collects everything a run shows and checks it against the
// secrets of the run.
type leakCheck struct {
	secrets []string
	texts   []string
	logs    *observer.ObservedLogs
	logger  *zap.Logger
}

func newLeakCheck(secrets ...string) *leakCheck {
	core, logs := observer.New(zapcore.DebugLevel)
	return &leakCheck{secrets: secrets, logs: logs, logger: zap.New(core)}
}

// err records an error's text (nil records nothing).
func (lc *leakCheck) err(err error) {
	if err != nil {
		lc.texts = append(lc.texts, err.Error())
	}
}

// config records every way of formatting and logging v.
func (lc *leakCheck) config(v any) {
	lc.texts = append(lc.texts, fmt.Sprintf("%v|%+v|%#v|%s", v, v, v, v))
	if m, ok := v.(zapcore.ObjectMarshaler); ok {
		lc.logger.Info("config", zap.Object("config", m), zap.Any("any", v))
	} else {
		Fail(fmt.Sprintf("%T is not a zapcore.ObjectMarshaler", v))
	}
}

// verify fails on the first piece of a secret shown anywhere.
func (lc *leakCheck) verify() {
	GinkgoHelper()
	texts := lc.texts
	for _, e := range lc.logs.All() {
		texts = append(texts, e.LoggerName+" "+e.Message+" "+fmt.Sprint(e.ContextMap()))
	}
	Expect(texts).NotTo(BeEmpty())
	for _, text := range texts {
		for _, s := range lc.secrets {
			if leak := secrettest.Leak(text, s); leak != "" {
				Fail(fmt.Sprintf("%q shows %q of the password %q", text, leak, s))
			}
		}
	}
}

// startWithFx starts and stops an fx app with Module for cfg, logging to
// lc, and returns the store's Ping error.
func startWithFx(lc *leakCheck, cfg fxmodule.Config) error {
	GinkgoHelper()
	var b *fxmodule.Backend
	app := fxtest.New(GinkgoT(), fx.NopLogger, fx.Supply(lc.logger), fx.Supply(cfg), fxmodule.Module, fx.Populate(&b))
	app.RequireStart() // pings; a failure is logged, not fatal
	err := b.Pinger.Ping(GinkgoT().Context())
	app.RequireStop()
	return err
}

var _ = Describe("secrets never shown", Label("redis", "sentinel", "secrets"), Ordered, func() {
	var r *rand.Rand
	BeforeAll(func() {
		seed := uint64(GinkgoRandomSeed())
		r = rand.New(rand.NewPCG(seed, seed))
		GinkgoWriter.Printf("passwords from seed %d (ginkgo --seed)\n", seed)
	})
	fast := connection.Options{DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1}

	It("in URL parsing, validation and dial failures, for 50 generated passwords", func(ctx SpecContext) {
		for i := range 50 {
			pw := secrettest.Password(r)
			lc := newLeakCheck(pw)
			closed := redistest.ClosedAddr(GinkgoT())
			raw := "redis://alice:" + pw + "@" + closed + "/0"
			encoded := "redis://" + url.UserPassword("alice", pw).String() + "@" + closed + "/0"

			for _, u := range []string{raw, encoded} {
				cfg := standalone.Config{URL: u, Connection: fast}
				lc.config(cfg)
				Expect(cfg.Validate()).To(Succeed(), "a password with / # ? @ : %% & = + space and Unicode parses")
				s, err := standalone.New(cfg, standalone.WithLogger(lc.logger))
				Expect(err).NotTo(HaveOccurred())
				Expect(s.Client().(*redis.Client).Options().Password).To(Equal(pw))
				perr := s.Ping(ctx) // dial failure
				Expect(perr).To(MatchError(domain.ErrUnavailable))
				lc.err(perr)
				Expect(s.Close()).To(Succeed())
			}
			// Validation failures next to the password.
			for _, bad := range []string{
				"redis://alice:" + pw + "@host:port", "redis://alice:" + pw + "@host/notadb",
				"redis://alice:" + pw + "@host?bogus=1", "http://alice:" + pw + "@host",
			} {
				err := standalone.Config{URL: bad, Connection: connection.Options{Password: pw, DialTimeout: -1}}.Validate()
				Expect(err).To(MatchError(domain.ErrInvalidArgument))
				lc.err(err)
				fcfg := fxmodule.Config{RedisCache: bad, SentinelPassword: pw, MasterPassword: pw, PoolSize: -1}
				lc.config(fcfg)
				lc.err(fcfg.Validate())
				_, err = fxmodule.NewBackend(fcfg, lc.logger)
				lc.err(err)
			}
			scfg := sentinel.Config{MasterName: "m", SentinelAddrs: []string{closed}, SentinelUsername: "s",
				SentinelPassword: pw, DB: -1, Connection: connection.Options{Username: "u", Password: pw}}
			lc.config(scfg)
			lc.config(scfg.Connection)
			lc.err(scfg.Validate())
			// The host's settings, through fx: the module's warning and
			// go-redis' own dial-failure lines go to the observer.
			// (For the first 10 passwords: an app takes ~0.2 s.)
			if i < 10 {
				lc.err(startWithFx(lc, fxmodule.Config{Site: "s", RedisCache: raw, DialTimeout: time.Second}))
				lc.err(startWithFx(lc, fxmodule.Config{Site: "s", SentinelEnabled: true, Sentinels: []string{closed},
					MasterService: "m", SentinelPassword: pw, MasterPassword: pw, DialTimeout: time.Second}))
				Expect(lc.logs.FilterMessageSnippet("failed to dial").Len()).To(BeNumerically(">", 0), "go-redis' lines were observed")
			}
			lc.verify()
		}
	})

	It("in authentication failures on standalone servers with requirepass", func(ctx SpecContext) {
		for range 3 {
			pw, wrong := secrettest.Password(r), secrettest.Password(r)
			srv := redistest.StartServer(GinkgoT(), redistest.WithPassword(pw))
			lc := newLeakCheck(pw, wrong)

			good, err := standalone.New(standalone.Config{URL: "redis://:" + pw + "@" + srv.Addr()}, standalone.WithLogger(lc.logger))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(good.Close)
			Expect(good.Ping(ctx)).To(Succeed(), "the raw password in the URL authenticates")

			for _, cfg := range []standalone.Config{
				{URL: "redis://:" + wrong + "@" + srv.Addr(), Connection: fast},
				{URL: "redis://bob:" + pw + "@" + srv.Addr(), Connection: fast}, // no such user
				{Addr: srv.Addr(), Connection: connection.Options{Password: wrong, MaxRetries: -1}},
				{Addr: srv.Addr(), Connection: fast}, // none sent
			} {
				lc.config(cfg)
				s, err := standalone.New(cfg, standalone.WithLogger(lc.logger))
				Expect(err).NotTo(HaveOccurred())
				perr := s.Ping(ctx)
				Expect(perr).To(MatchError(domain.ErrRefused))
				lc.err(perr)
				var st ports.Store = s
				lc.err(st.Set(ctx, "k", []byte("v"), 0))
				Expect(s.Close()).To(Succeed())
			}
			lc.err(startWithFx(lc, fxmodule.Config{Site: "s", RedisCache: "redis://:" + wrong + "@" + srv.Addr()}))
			lc.verify()
		}
	})

	It("in authentication failures behind Sentinel, sentinels and master with requirepass", func(ctx SpecContext) {
		pw, sentinelPW, wrong := secrettest.Password(r), secrettest.Password(r), secrettest.Password(r)
		top := redistest.StartSentinel(GinkgoT(), redistest.WithPassword(pw), redistest.WithSentinelPassword(sentinelPW),
			redistest.WithSentinels(1), redistest.WithReplicas(0))
		lc := newLeakCheck(pw, sentinelPW, wrong)

		cfg := sentinel.Config{MasterName: top.MasterName(), SentinelAddrs: top.SentinelAddrs(),
			SentinelPassword: sentinelPW, Connection: connection.Options{Password: pw, DialTimeout: time.Second, ReadTimeout: time.Second}}
		good, err := sentinel.New(cfg, sentinel.WithLogger(lc.logger))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(good.Close)
		Expect(good.Ping(ctx)).To(Succeed())
		lc.config(cfg)

		wrongSentinel, wrongMaster := cfg, cfg
		wrongSentinel.SentinelPassword = wrong
		wrongMaster.Connection.Password = wrong
		for _, c := range []sentinel.Config{wrongSentinel, wrongMaster} {
			lc.config(c)
			s, err := sentinel.New(c, sentinel.WithLogger(lc.logger))
			Expect(err).NotTo(HaveOccurred())
			perr := s.Ping(ctx)
			Expect(perr).To(MatchError(domain.ErrRefused))
			Expect(perr.Error()).To(ContainSubstring("rejected the credentials"))
			lc.err(perr)
			Expect(s.Close()).To(Succeed())
		}
		for _, f := range []fxmodule.Config{
			{Site: "s", SentinelEnabled: true, Sentinels: top.SentinelAddrs(), MasterService: top.MasterName(),
				SentinelPassword: wrong, MasterPassword: pw, DialTimeout: time.Second},
			{Site: "s", SentinelEnabled: true, Sentinels: top.SentinelAddrs(), MasterService: top.MasterName(),
				SentinelPassword: sentinelPW, MasterPassword: wrong, DialTimeout: time.Second},
		} {
			lc.config(f)
			lc.err(startWithFx(lc, f))
		}
		Expect(lc.logs.FilterMessageSnippet("cache backend not reachable").Len()).To(Equal(2))
		lc.verify()
		Expect(strings.Join(lc.texts, "\n")).To(ContainSubstring(connection.Redacted), "the configs were formatted")
	}, SpecTimeout(2*time.Minute))
})

// TestConfigViewsListEveryField guards the redacting String of each config
// type against a field added to the type but not to its view.
func TestConfigViewsListEveryField(t *testing.T) {
	for _, cfg := range []any{fxmodule.Config{}, standalone.Config{}, sentinel.Config{}, connection.Options{}} {
		text := fmt.Sprint(cfg)
		typ := reflect.TypeOf(cfg)
		for f := range typ.Fields() {
			if f.IsExported() && !strings.Contains(text, f.Name+":") {
				t.Errorf("%v does not show %s.%s", text, typ, f.Name)
			}
		}
	}
}
