package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// DiagnosedPing is the Ping of an adapter that can say why its backend does
// not answer (Sentinel, Cluster). It runs ping within budget and, when it
// fails, runs diagnose within budget too and returns its diagnosis if there
// is one: an error matching domain.ErrUnavailable that says what is wrong
// (no node reachable, rejected credentials, ...). Without a diagnosis it
// returns ping's error, or, when ping only ran out of budget, an error
// matching domain.ErrUnavailable naming endpoint and the budget. A closed
// store, or a ctx that ended, gives ping's error at once. So it returns
// within 2 × budget, or when ctx ends if that is sooner.
func DiagnosedPing(ctx context.Context, budget time.Duration, endpoint string, ping, diagnose func(context.Context) error) error {
	if ctx.Err() != nil {
		return ping(ctx) // the store's usual closed or context error
	}
	pctx, cancel := context.WithTimeout(ctx, budget)
	err := ping(pctx)
	cancel()
	if err == nil || errors.Is(err, domain.ErrClosed) || ctx.Err() != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if diag := diagnose(dctx); diag != nil {
		return diag
	}
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		// Our own bound, not the caller's.
		return fmt.Errorf("rediscache: ping %s: %w: no answer within %v", endpoint, domain.ErrUnavailable, budget)
	}
	return err
}
