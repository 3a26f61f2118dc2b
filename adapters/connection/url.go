package connection

import (
	"errors"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL parses a redis://, rediss:// or unix:// URL with go-redis'
// redis.ParseURL, accepting passwords as people paste them, and never
// quoting the credentials in its errors.
//
// The credentials may be percent-encoded, as RFC 3986 asks
// (redis://:p%2Fss@host), or written as they are: a generated password
// holding / # ? @ : % & = + a space or any Unicode character
// (redis://:p/ss#w?rd@host) parses too. A URL that does not parse as it
// stands (or that holds a '#', which no redis URL uses) is read again with
// everything between "://" and the last '@' taken as the credentials:
// literally, unless it is valid percent-encoded syntax. Write '%' as %25 in
// a password that is otherwise valid URL syntax ("ab%41" reads as "abA").
//
// When the URL cannot be used, the error names the problem (the scheme, the
// port, the database, an option) but is built from the URL without its
// credentials, so no part of a password can show in it.
func ParseURL(raw string) (*redis.Options, error) {
	opts, err := redis.ParseURL(raw)
	scheme, userinfo, rest, hasCreds := splitCredentials(raw)
	if err == nil && (!hasCreds || !strings.Contains(raw, "#")) {
		return opts, nil
	}
	if !hasCreds {
		return nil, urlError(err) // no credentials in the URL to leak
	}
	user, pass := credentials(userinfo)
	opts, err = redis.ParseURL(scheme + "://" + rest)
	if err != nil {
		return nil, urlError(err)
	}
	opts.Username, opts.Password = user, pass
	return opts, nil
}

// RedactURL returns raw with its password (or, for credentials without a
// ':', its whole user information) replaced by Redacted, for messages and
// logs. A string that is no URL with credentials is returned as is.
func RedactURL(raw string) string {
	scheme, userinfo, rest, ok := splitCredentials(raw)
	if !ok {
		return raw
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":" + Redacted + "@" + rest
	}
	return scheme + "://" + Redacted + "@" + rest
}

// splitCredentials splits scheme://userinfo@rest at "://" and the last '@'.
func splitCredentials(raw string) (scheme, userinfo, rest string, ok bool) {
	scheme, after, found := strings.Cut(raw, "://")
	if !found {
		return "", "", "", false
	}
	at := strings.LastIndexByte(after, '@')
	if at < 0 {
		return "", "", "", false
	}
	return scheme, after[:at], after[at+1:], true
}

// credentials returns the user and password of userinfo: percent-decoded
// when it is valid URL syntax, as it stands otherwise.
func credentials(userinfo string) (user, pass string) {
	user, pass, _ = strings.Cut(userinfo, ":")
	if !validUserinfo(userinfo) {
		return user, pass
	}
	u, err1 := url.PathUnescape(user)
	p, err2 := url.PathUnescape(pass)
	if err1 != nil || err2 != nil {
		return user, pass
	}
	return u, p
}

// validUserinfo reports whether s is made of the characters RFC 3986
// allows in user information (unreserved, sub-delims, ':', '%'), with
// well-formed escapes.
func validUserinfo(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// urlError describes why a URL did not parse without quoting it: go-redis'
// own messages name the scheme, the path or the option; net/url's quote the
// whole URL, so only their inner error is kept, and a bad escape is not
// quoted at all.
func urlError(err error) error {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return err
	}
	var esc url.EscapeError
	if errors.As(uerr.Err, &esc) {
		return errors.New("invalid percent-encoding")
	}
	return errors.New(uerr.Err.Error())
}
