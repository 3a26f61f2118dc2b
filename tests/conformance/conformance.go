// Package conformance is the behavioural contract of rediscache backends.
// Every adapter (memory, standalone, sentinel), and the ClientCache wrapped
// around each of them, registers the same specs with Describe.
//
// It is an ordinary (non-test) package so that any adapter, inside or
// outside this module, can import it from its own ginkgo suite.
package conformance

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/onsi/ginkgo/v2"

	"github.com/rediscache/rediscache/ports"
)

// Backend is what one spec receives: the ports under test and, when the
// backend has them, a second independent client of the same data.
type Backend struct {
	// Store is the store under test.
	Store ports.Store
	// Peer is another client of the same data, for cross-client specs
	// (a write through Peer must be seen by Store). Nil skips those specs.
	Peer ports.Store
	// Tracker is the tracking of Store's backend (every write through Store
	// must be reported to it); nil skips its specs.
	Tracker ports.Tracker
	// Flush empties the whole database (FLUSHALL); nil skips flush specs.
	Flush func(ctx context.Context) error
	// Close releases what the factory built. Nil means nothing to release.
	Close func() error
}

// Factory builds a Backend. The suite calls it before every spec and calls
// Backend.Close after it. Specs isolate themselves with unique key
// prefixes (see Prefix), so a factory may hand out clients of one shared
// server.
type Factory func(ctx context.Context) (Backend, error)

// Features tells the suite which optional behaviour a backend has. Specs
// for a missing feature are skipped with that reason, never silently.
type Features struct {
	// Suggest: FT.SUG* with the RediSearch module (or its emulation).
	Suggest bool
	// NoModule builds the same kind of backend on a server without the
	// RediSearch module, for the specs that every Suggest method then fails
	// with domain.ErrNotSupported naming the module. Nil skips them (the
	// memory backend always has its emulation).
	NoModule Factory
}

var seq atomic.Uint64

// Prefix returns a key prefix unique to this process and call, so specs
// never see each other's keys on a shared server.
func Prefix() string {
	return fmt.Sprintf("rc%d-%d-", ginkgo.GinkgoParallelProcess(), seq.Add(1))
}

// Describe registers the whole suite for one backend and returns true, so it
// can be used as `var _ = conformance.Describe(...)`. args are passed to the
// enclosing ginkgo.Describe (labels, decorators).
func Describe(name string, newBackend Factory, f Features, args ...any) bool {
	args = append(args, func() {
		describePorts(newBackend, f)
		describeSuggest(newBackend, f)
		describeCache(newBackend, f)
	})
	return ginkgo.Describe(name, args...)
}

// setup builds a Backend for one spec and registers its cleanup.
func setup(ctx context.Context, newBackend Factory) Backend {
	ginkgo.GinkgoHelper()
	b, err := newBackend(ctx)
	if err != nil {
		ginkgo.Fail(fmt.Sprintf("conformance: building backend: %v", err))
	}
	if b.Close != nil {
		ginkgo.DeferCleanup(b.Close)
	}
	return b
}
