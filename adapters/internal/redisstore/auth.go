package redisstore

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// IsAuthError reports whether err is a server's refusal of the connection's
// credentials (NOAUTH, WRONGPASS and the like), which translate turns into
// domain.ErrRefused with "authentication failed". The Sentinel adapter
// uses it to tell which credentials, the sentinels' or the master's, were
// refused.
func IsAuthError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && isAuthError(rerr.Error())
}
