package app

import (
	"errors"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
)

// absorbed is the state of the one failure a Cache absorbs: the
// GetOrGenerate family serving a generated value that the backend could not
// read or would not store (domain.ErrUnavailable, refusals included). A run
// of such failures is an episode, logged once when it starts (Warn) and
// once when a store succeeds again (Info), never per call: under an outage
// or a full server every miss is absorbed, and a log line per call would
// flood the host's logs.
type absorbed struct {
	failing atomic.Bool
	served  atomic.Int64 // generated values served uncached in this episode
}

// absorb records a generated value served without caching because of err,
// and logs err if it starts an episode.
func (c *Cache) absorb(key string, err error) {
	c.absorbed.served.Add(1)
	if c.absorbed.failing.CompareAndSwap(false, true) {
		c.log.Warn("cache unavailable: serving generated values without caching them; logged once until a store succeeds",
			zap.String("key", key), zap.Bool("refused", errIsRefused(err)), zap.Error(err))
	}
}

// stored ends an episode, if one is running, after a store succeeded.
func (c *Cache) stored() {
	if c.absorbed.failing.Load() && c.absorbed.failing.CompareAndSwap(true, false) {
		c.log.Info("cache stores again",
			zap.Int64("served_uncached", c.absorbed.served.Swap(0)))
	}
}

func errIsRefused(err error) bool { return errors.Is(err, domain.ErrRefused) }
