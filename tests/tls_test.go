package tests

// TLS against real redis-servers listening with --tls-port (Debian's are
// built with TLS), with a CA and certificates made in the test.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
)

var _ = Describe("TLS", Label("redis", "tls"), Ordered, func() {
	var (
		ca       *redistest.CA
		srv      *redistest.Server // TLS, no client certificate required
		mutual   *redistest.Server // TLS, client certificate required
		clientKP redistest.KeyPair
	)
	BeforeAll(func() {
		ca = redistest.NewCA(GinkgoT())
		srv = redistest.StartServer(GinkgoT(), redistest.WithTLS(ca))
		mutual = redistest.StartServer(GinkgoT(), redistest.WithTLS(ca), redistest.WithTLSClientAuth())
		clientKP = ca.Issue(GinkgoT(), "client", "client.example")
	})

	newStore := func(cfg standalone.Config) *standalone.Store {
		GinkgoHelper()
		s, err := standalone.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		return s
	}
	// tlsOnly is a connection that fails fast: TLS failures are not retried,
	// but a test must not wait for default timeouts when one is.
	tlsOnly := func(cfg *tls.Config) connection.Options {
		return connection.Options{TLS: cfg, DialTimeout: 2 * time.Second, MaxRetries: -1}
	}

	// backendSmoke builds the backend of the host's settings cfg, pings
	// it and runs the smoke on it.
	backendSmoke := func(ctx SpecContext, cfg fxmodule.Config) {
		GinkgoHelper()
		b, err := fxmodule.NewBackend(cfg, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		Expect(b.Pinger.Ping(ctx)).To(Succeed())
		Expect(conformance.Smoke(ctx, b.Store)).To(Succeed())
	}

	It("connects through a rediss:// URL with the CA file of the host's settings, and passes the smoke", func(ctx SpecContext) {
		backendSmoke(ctx, fxmodule.Config{Site: "site1", RedisCache: "rediss://" + srv.TLSAddr() + "/0", TLSCAFile: ca.File()})
	})

	It("connects through a rediss:// URL alone (skip_verify, for tests)", func(ctx SpecContext) {
		s := newStore(standalone.Config{URL: "rediss://" + srv.TLSAddr() + "?skip_verify=true"})
		Expect(conformance.Smoke(ctx, s)).To(Succeed())
	})

	It("connects with Config.TLS, and passes the smoke", func(ctx SpecContext) {
		s := newStore(standalone.Config{Addr: srv.TLSAddr(), Connection: tlsOnly(ca.ClientConfig())})
		Expect(conformance.Smoke(ctx, s)).To(Succeed())
	})

	It("fails with ErrUnavailable naming an unknown CA", func(ctx SpecContext) {
		other := redistest.NewCA(GinkgoT())
		s := newStore(standalone.Config{Addr: srv.TLSAddr(), Connection: tlsOnly(other.ClientConfig())})
		err := s.Ping(ctx)
		Expect(err).To(MatchError(domain.ErrUnavailable))
		Expect(errors.Is(err, domain.ErrRefused)).To(BeFalse(), "the client refused, not the server")
		var authority x509.UnknownAuthorityError
		Expect(errors.As(err, &authority)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("not signed by a trusted CA"))
		Expect(err.Error()).To(ContainSubstring("certificate signed by unknown authority"))

		// Through the Cache too, and through the host's settings.
		c, err := app.New(s, app.Config{Site: "site1"})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.SetValue(ctx, "k", 1)).To(MatchError(domain.ErrUnavailable))
		b, err := fxmodule.NewBackend(fxmodule.Config{RedisCache: "rediss://" + srv.TLSAddr(), TLSCAFile: other.File()}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		Expect(b.Pinger.Ping(ctx)).To(MatchError(ContainSubstring("not signed by a trusted CA")))
	})

	It("fails with ErrUnavailable naming a wrong host name", func(ctx SpecContext) {
		cfg := ca.ClientConfig()
		cfg.ServerName = "cache.example" // the certificate is for 127.0.0.1 and localhost
		err := newStore(standalone.Config{Addr: srv.TLSAddr(), Connection: tlsOnly(cfg)}).Ping(ctx)
		Expect(err).To(MatchError(domain.ErrUnavailable))
		var hostname x509.HostnameError
		Expect(errors.As(err, &hostname)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("not valid for this host name"))
		Expect(err.Error()).To(ContainSubstring("cache.example"))
	})

	It("fails with ErrUnavailable within DialTimeout on a port that does not speak TLS", func(ctx SpecContext) {
		// redis-server waits for the end of an inline command that never
		// comes: the handshake times out.
		start := time.Now()
		err := newStore(standalone.Config{Addr: srv.Addr(), Connection: tlsOnly(ca.ClientConfig())}).Ping(ctx)
		Expect(time.Since(start)).To(BeNumerically("<", 4*time.Second))
		Expect(err).To(MatchError(domain.ErrUnavailable))
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeFalse(), "the caller's context did not end: %v", err)
		Expect(err.Error()).To(ContainSubstring("no answer in time"))
	})

	It("authenticates with a client certificate (mutual TLS), and fails typed without one", func(ctx SpecContext) {
		cert, err := clientKP.Certificate()
		Expect(err).NotTo(HaveOccurred())
		cfg := ca.ClientConfig()
		cfg.Certificates = []tls.Certificate{cert}
		s := newStore(standalone.Config{Addr: mutual.TLSAddr(), Connection: tlsOnly(cfg)})
		Expect(conformance.Smoke(ctx, s)).To(Succeed())

		// Without a certificate. Under TLS 1.3 the server checks the
		// client's certificate after the client has finished its
		// handshake, and closes: the client's first command meets a
		// reset connection (or, if the alert arrives first, the alert).
		err = newStore(standalone.Config{Addr: mutual.TLSAddr(), Connection: tlsOnly(ca.ClientConfig())}).Ping(ctx)
		Expect(err).To(MatchError(domain.ErrUnavailable))
		// Under TLS 1.2 the check is part of the handshake, whose
		// failure names the cause.
		tls12 := ca.ClientConfig()
		tls12.MaxVersion = tls.VersionTLS12
		err = newStore(standalone.Config{Addr: mutual.TLSAddr(), Connection: tlsOnly(tls12)}).Ping(ctx)
		Expect(err).To(MatchError(domain.ErrUnavailable))
		Expect(err.Error()).To(ContainSubstring("require a client certificate"))

		// A certificate of another CA is refused just the same.
		stranger, err := redistest.NewCA(GinkgoT()).Issue(GinkgoT(), "stranger", "client.example").Certificate()
		Expect(err).NotTo(HaveOccurred())
		cfg = ca.ClientConfig()
		cfg.Certificates = []tls.Certificate{stranger}
		err = newStore(standalone.Config{Addr: mutual.TLSAddr(), Connection: tlsOnly(cfg)}).Ping(ctx)
		Expect(err).To(MatchError(domain.ErrUnavailable))
	})

	It("works behind Sentinel with TLS data nodes and sentinels, replication over TLS", func(ctx SpecContext) {
		// go-redis speaks TLS to the sentinels and the data nodes with one
		// tls.Config (FailoverOptions.TLSConfig): TLS data nodes need
		// sentinels that speak TLS too.
		top := redistest.StartSentinel(GinkgoT(), redistest.WithTLS(ca), redistest.WithSentinels(1), redistest.WithReplicas(1))
		newSentinelStore := func(trusted *redistest.CA) *sentinel.Store {
			GinkgoHelper()
			s, err := sentinel.New(sentinel.Config{
				MasterName:    top.MasterName(),
				SentinelAddrs: top.SentinelTLSAddrs(),
				Connection:    connection.Options{TLS: trusted.ClientConfig(), DialTimeout: 2 * time.Second},
			})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Close)
			return s
		}
		s := newSentinelStore(ca)
		Expect(conformance.Smoke(ctx, s)).To(Succeed())
		// The replica got a write over the TLS replication link.
		Expect(s.Set(ctx, "tls-replicated", []byte("1"), 0)).To(Succeed())
		Eventually(func() (string, error) { return top.Replica().Do("GET", "tls-replicated") }).
			WithTimeout(5 * time.Second).Should(Equal("1"))

		// The host's settings: the same through fxmodule, CA from a file.
		backendSmoke(ctx, fxmodule.Config{SentinelEnabled: true, Sentinels: top.SentinelTLSAddrs(),
			MasterService: top.MasterName(), TLSCAFile: ca.File()})

		// A wrong CA: the sentinels cannot be asked.
		err := newSentinelStore(redistest.NewCA(GinkgoT())).Ping(ctx)
		Expect(err).To(MatchError(domain.ErrUnavailable))
		Expect(err.Error()).To(ContainSubstring("certificate signed by unknown authority"))
	}, SpecTimeout(2*time.Minute))
})
