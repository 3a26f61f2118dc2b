package domain

import (
	"fmt"
	"time"
)

// NoExpiry is the TTL that means "keep the key until it is deleted". Every
// TTL in the module follows one rule, which fixes Frappe's K12 (where an
// expiry of 0 made Redis raise):
//
//   - 0 (NoExpiry) means no expiry: Set stores a persistent key, Expire
//     removes an existing TTL (Redis PERSIST), TTL reports a persistent key;
//   - a positive duration is the lifetime, with millisecond precision;
//   - a negative duration, or a positive one below one millisecond, is
//     rejected with ErrInvalidArgument.
const NoExpiry time.Duration = 0

// ValidateTTL checks ttl against the rule of NoExpiry.
func ValidateTTL(ttl time.Duration) error {
	switch {
	case ttl < 0:
		return fmt.Errorf("%w: negative ttl %v", ErrInvalidArgument, ttl)
	case ttl > 0 && ttl < time.Millisecond:
		return fmt.Errorf("%w: ttl %v below one millisecond", ErrInvalidArgument, ttl)
	}
	return nil
}

// MaxRandCount bounds the count of SRandMember in both directions: a larger
// reply (Redis builds -count members for a negative count) would exhaust
// memory, so it is rejected with ErrInvalidArgument.
const MaxRandCount = 1 << 20
