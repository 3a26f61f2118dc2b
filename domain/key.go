package domain

import (
	"fmt"
	"strings"
)

// The key model of Frappe's RedisWrapper.make_key:
//
//	site key:   <site>|<key>
//	user key:   <site>|user:<user>:<key>
//	shared key: <key>            (not prefixed, visible to every site)
//
// To make the site namespaces disjoint, whatever the characters involved, the
// model adds three rules Frappe does not have:
//
//   - a site name must not be empty and must not contain SiteSeparator, so
//     "<site>|" is an unambiguous prefix;
//   - a user name must not be empty and must not contain ':' so a user segment
//     cannot impersonate another user's;
//   - a shared key must not contain SiteSeparator, so a shared key can never
//     name (and therefore never read, write or delete) a site's key.
const (
	// SiteSeparator separates the site prefix from the rest of a key.
	SiteSeparator = "|"
	// UserSegment starts the user scope inside a site key.
	UserSegment = "user:"
	// MaxKeyLen is the longest key (after prefixing) the library accepts.
	// Redis allows 512 MiB; a cache key longer than 64 KiB is a bug.
	MaxKeyLen = 64 << 10
)

// Scope selects how a caller's key is turned into a Redis key.
type Scope struct {
	// User, when not empty, puts the key in that user's scope.
	User string
	// Shared keys are not prefixed with the site. Shared wins over User, as
	// in Frappe.
	Shared bool
}

// ValidateSite reports whether site can be used as a site prefix.
func ValidateSite(site string) error {
	switch {
	case site == "":
		return fmt.Errorf("%w: empty site name", ErrInvalidArgument)
	case strings.Contains(site, SiteSeparator):
		return fmt.Errorf("%w: site name %q contains %q", ErrInvalidArgument, site, SiteSeparator)
	case len(site) > MaxKeyLen/2:
		return fmt.Errorf("%w: site name longer than %d bytes", ErrInvalidArgument, MaxKeyLen/2)
	}
	return nil
}

// ValidateUser reports whether user can be used as a user scope.
func ValidateUser(user string) error {
	if strings.Contains(user, ":") {
		return fmt.Errorf("%w: user name %q contains ':'", ErrInvalidArgument, user)
	}
	return nil
}

// MakeKey returns the Redis key for key in site under scope. site must have
// passed ValidateSite. It fails with ErrInvalidArgument for an empty key, a
// user name with ':' or a shared key containing SiteSeparator.
func MakeKey(site, key string, scope Scope) (string, error) {
	if key == "" {
		return "", fmt.Errorf("%w: empty key", ErrInvalidArgument)
	}
	if len(key) > MaxKeyLen {
		return "", fmt.Errorf("%w: key longer than %d bytes", ErrInvalidArgument, MaxKeyLen)
	}
	if scope.Shared {
		if strings.Contains(key, SiteSeparator) {
			return "", fmt.Errorf("%w: shared key %q contains %q", ErrInvalidArgument, key, SiteSeparator)
		}
		return key, nil
	}
	if err := ValidateUser(scope.User); err != nil {
		return "", err
	}
	return scopePrefix(site, scope) + key, nil
}

// scopePrefix is the literal text every key of (site, scope) starts with.
func scopePrefix(site string, scope Scope) string {
	if scope.Shared {
		return ""
	}
	if scope.User != "" {
		return site + SiteSeparator + UserSegment + scope.User + ":"
	}
	return site + SiteSeparator
}

// KeyPattern returns the Redis glob pattern that lists the keys of (site,
// scope) starting with prefix. Only prefix keeps its glob meaning; the site and
// user parts are escaped with EscapeGlob, so no site or user name can widen
// the pattern beyond its own namespace. A trailing "*" is appended, as in
// Frappe's get_keys.
//
// For a shared scope the pattern is prefix + "*" and can match site keys;
// callers must drop every match for which IsSharedKey is false.
func KeyPattern(site, prefix string, scope Scope) (string, error) {
	if !scope.Shared {
		if err := ValidateUser(scope.User); err != nil {
			return "", err
		}
	}
	if len(prefix) > MaxKeyLen {
		return "", fmt.Errorf("%w: pattern longer than %d bytes", ErrInvalidArgument, MaxKeyLen)
	}
	return EscapeGlob(scopePrefix(site, scope)) + prefix + "*", nil
}

// TrimKey turns a Redis key listed with KeyPattern(site, _, scope) back into
// the key a caller would pass to MakeKey with the same scope. ok is false when
// redisKey does not belong to (site, scope); callers must then drop it.
func TrimKey(site, redisKey string, scope Scope) (key string, ok bool) {
	if scope.Shared {
		return redisKey, IsSharedKey(redisKey)
	}
	return strings.CutPrefix(redisKey, scopePrefix(site, scope))
}

// IsSharedKey reports whether redisKey lies in the shared namespace, that is
// outside every site's namespace.
func IsSharedKey(redisKey string) bool {
	return !strings.Contains(redisKey, SiteSeparator)
}

// EscapeGlob escapes every character that has a meaning in a Redis glob
// pattern (`*`, `?`, `[`, `]` and `\`), so the result matches s literally.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
