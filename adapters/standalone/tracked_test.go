package standalone_test

import (
	"context"
	"github.com/rediscache/rediscache/adapters/connection"
	"slices"
	"testing"
	"time"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

func TestTracked(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartServer(t)
	s, err := standalone.NewTracked(standalone.Config{Addr: srv.Addr()})
	noErr(t, err)
	t.Cleanup(func() { _ = s.Close() })
	peer := newStore(t, standalone.Config{Addr: srv.Addr()})

	ch, err := s.Invalidations(ctx)
	noErr(t, err)
	if s.TrackingID() == 0 {
		t.Fatal("no tracking ID with a live session")
	}
	_, err = s.Get(ctx, "k")
	wantErr(t, err, domain.ErrNotFound)
	noErr(t, peer.Set(ctx, "k", []byte("v"), 0))
	select {
	case ev := <-ch:
		if !slices.Equal(ev.Keys, []string{"k"}) {
			t.Fatalf("event = %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no invalidation")
	}

	msgs, err := s.Subscribe(ctx, "c")
	noErr(t, err)
	noErr(t, s.Publish(ctx, "c", []byte("hello")))
	select {
	case m := <-msgs:
		if string(m) != "hello" {
			t.Fatalf("message = %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}

	// Close has closed both channels by the time it returns.
	noErr(t, s.Close())
	for range ch {
	}
	for range msgs {
	}
	_, err = s.Get(ctx, "k")
	wantErr(t, err, domain.ErrClosed)
}

func TestTrackedNeedsRESP2(t *testing.T) {
	for _, cfg := range []standalone.Config{
		{Connection: connection.Options{Protocol: 3}},
		{URL: "redis://127.0.0.1:6379?protocol=3"},
	} {
		_, err := standalone.NewTracked(cfg)
		wantErr(t, err, domain.ErrInvalidArgument)
	}
	_, err := standalone.NewTracked(standalone.Config{DB: -1})
	wantErr(t, err, domain.ErrInvalidArgument)
}
