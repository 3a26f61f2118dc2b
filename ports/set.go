package ports

import "context"

// Set stores unordered collections of unique string members (Redis sets).
// An empty set does not exist.
type Set interface {
	// SAdd adds members and returns how many were new.
	SAdd(ctx context.Context, key string, members ...string) (int64, error)
	// SRem removes members and returns how many were present.
	SRem(ctx context.Context, key string, members ...string) (int64, error)
	// SIsMember reports whether member is in the set.
	SIsMember(ctx context.Context, key, member string) (bool, error)
	// SPop removes and returns a random member, or domain.ErrNotFound for
	// an empty set.
	SPop(ctx context.Context, key string) (string, error)
	// SRandMember returns random members without removing them, following
	// Redis: count > 0 gives up to count distinct members, count < 0 gives
	// exactly -count members that may repeat, count 0 gives none.
	SRandMember(ctx context.Context, key string, count int) ([]string, error)
	// SMembers returns every member in no particular order.
	SMembers(ctx context.Context, key string) ([]string, error)
}
