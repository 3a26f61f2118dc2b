package tests

// The ClientCache's tracking over TLS, kept apart and small: it is written
// against the tracked store's Invalidations API, which the ClientCache
// transport rewrite replaces; port this file with it.

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

var _ = Describe("the ClientCache's tracking works over TLS", Label("redis", "tls", "tracking"), func() {
	It("reports another client's write of a key read through a TLS tracked store", func(ctx SpecContext) {
		ca := redistest.NewCA(GinkgoT())
		srv := redistest.StartServer(GinkgoT(), redistest.WithTLS(ca))
		tracked, err := standalone.NewTracked(standalone.Config{
			Addr:       srv.TLSAddr(),
			Connection: connection.Options{TLS: ca.ClientConfig()},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tracked.Close)

		sctx, cancel := context.WithCancel(ctx)
		DeferCleanup(cancel)
		events, err := tracked.Invalidations(sctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(tracked.TrackingID()).NotTo(BeZero())

		Expect(tracked.Set(ctx, "site1|k", []byte("v1"), 0)).To(Succeed())
		Expect(tracked.Get(ctx, "site1|k")).To(Equal([]byte("v1"))) // now tracked
		_, err = srv.Do("SET", "site1|k", "v2")                     // another client
		Expect(err).NotTo(HaveOccurred())

		Eventually(events).WithTimeout(5 * time.Second).Should(Receive(Satisfy(func(ev domain.Invalidation) bool {
			return slices.Contains(ev.Keys, "site1|k")
		})))
	})
})
