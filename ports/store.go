package ports

import "context"

// Store groups the data ports. Adapters satisfy it; consumers should depend
// on the narrowest port they use.
type Store interface {
	KeyValue
	Hash
	Set
	List
	Suggest
}

// Pinger is implemented by stores that can check their backend.
type Pinger interface {
	// Ping returns nil when the backend answers, or an error matching
	// domain.ErrUnavailable (or a more precise one) naming what is wrong.
	Ping(ctx context.Context) error
}

// TrackedStore is a store whose reads can be tracked: what the ClientCache
// is built on. Every Redis adapter's Store and the memory Store are one.
type TrackedStore interface {
	Store
	Tracker
}
