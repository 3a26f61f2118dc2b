package tests

import (
	"context"
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/tests/conformance"
)

// standaloneFactory connects two clients (Store and Peer) to the suite's
// shared standalone server.
func standaloneFactory(context.Context) (conformance.Backend, error) {
	if standaloneServer == nil {
		return conformance.Backend{}, errors.New("standalone server not started (BeforeSuite did not run)")
	}
	store, err := standalone.New(standalone.Config{Addr: standaloneServer.Addr()})
	if err != nil {
		return conformance.Backend{}, fmt.Errorf("store: %w", err)
	}
	peer, err := standalone.New(standalone.Config{Addr: standaloneServer.Addr()})
	if err != nil {
		return conformance.Backend{}, errors.Join(fmt.Errorf("peer: %w", err), store.Close())
	}
	return conformance.Backend{
		Store:   store,
		Peer:    peer,
		Tracker: store,
		Flush: func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			_, err := standaloneServer.Do("FLUSHALL")
			return err
		},
		Close: func() error {
			return errors.Join(peer.Close(), store.Close())
		},
	}, nil
}

var _ = conformance.Describe("standalone", standaloneFactory,
	conformance.Features{Suggest: true, NoModule: standaloneNoModuleFactory},
	Label("redis", "standalone"))
