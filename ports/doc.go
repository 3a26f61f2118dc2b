// Package ports declares the interfaces through which the core (package app)
// talks to a cache backend. Every adapter under adapters/ implements all of
// them with one store type; the importable suite in tests/conformance defines
// what "implements" means.
//
// Conventions shared by every port:
//
//   - ctx comes first; a cancelled ctx makes the call fail with an error
//     matching context.Canceled (or context.DeadlineExceeded).
//   - Keys are full Redis keys: the site prefix is the caller's business
//     (see domain.MakeKey). An empty key is rejected with
//     domain.ErrInvalidArgument.
//   - A missing scalar (Get, HGet, LPop, RPop, SPop) is domain.ErrNotFound; a
//     missing collection (HGetAll, HKeys, SMembers, LRange) is empty with a
//     nil error; counts of a missing key are 0.
//   - A key holding another type gives domain.ErrWrongType.
//   - A backend that cannot be reached gives domain.ErrUnavailable.
//   - TTLs follow domain.NoExpiry: 0 means no expiry, negative is invalid.
//   - Errors wrap their sentinel with %w, so errors.Is is the only test
//     callers need.
//   - Implementations are safe for concurrent use.
//
// Method names are unique across ports, so one adapter type satisfies every
// port and ports.Store groups them.
package ports
