package tests

// The ClientCache's tracking over TLS, kept apart and small: a key fetched
// through a store connected with TLS (ports.Tracker) is reported when
// another client changes it, so the invalidation connection and the tracked
// connections work over TLS.

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// keySink collects the keys a tracker reports.
type keySink chan string

func (s keySink) Invalidate(keys []string) {
	for _, k := range keys {
		select {
		case s <- k:
		default: // a full sink only loses what the spec does not wait for
		}
	}
}

func (keySink) Drop(*domain.Lease, string) {}

var _ = Describe("the ClientCache's tracking works over TLS", Label("redis", "tls", "tracking"), func() {
	It("reports another client's write of a key fetched through a TLS connection", func(ctx SpecContext) {
		ca := redistest.NewCA(GinkgoT())
		srv := redistest.StartServer(GinkgoT(), redistest.WithTLS(ca))
		store, err := standalone.New(standalone.Config{
			Addr:       srv.TLSAddr(),
			Connection: connection.Options{TLS: ca.ClientConfig()},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)

		sink := make(keySink, 64)
		untrack, err := store.Track(ctx, sink)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(untrack)
		Expect(store.Tracking()).To(BeTrue())
		clients, err := srv.Do("CLIENT", "LIST")
		Expect(err).NotTo(HaveOccurred())
		Expect(clients).To(ContainSubstring("sub=1"), "the invalidation connection is subscribed")

		Expect(store.Set(ctx, "site1|k", []byte("v1"), 0)).To(Succeed())
		f, err := store.Fetch(ctx, "site1|k") // now tracked
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Value).To(Equal([]byte("v1")))
		for len(sink) > 0 { // the store reported its own Set: not what this spec waits for
			<-sink
		}
		_, err = srv.Do("SET", "site1|k", "v2") // another client, plain text
		Expect(err).NotTo(HaveOccurred())

		Eventually(sink).WithTimeout(5 * time.Second).Should(Receive(Equal("site1|k")))
	})
})
