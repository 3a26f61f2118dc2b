package tests

import (
	"context"
	"errors"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/tests/conformance"
)

// memoryFactory builds a fresh in-memory database per spec, with a second
// client of it as Peer.
func memoryFactory(context.Context) (conformance.Backend, error) {
	store := memory.New(memory.Config{})
	peer := store.Peer()
	return conformance.Backend{
		Store:   store,
		Peer:    peer,
		Tracker: store,
		Flush:   store.FlushAll,
		Close: func() error {
			return errors.Join(peer.Close(), store.Close())
		},
	}, nil
}

var _ = conformance.Describe("memory", memoryFactory, conformance.Features{Suggest: true}, Label("memory"))
