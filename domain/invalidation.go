package domain

// Invalidation tells a local cache which of its entries are no longer valid.
type Invalidation struct {
	// Keys are full Redis keys (site prefix included) whose value changed:
	// written, deleted, expired or evicted.
	Keys []string
	// All means every local entry must be dropped: the database was flushed,
	// or the invalidation stream itself was interrupted (reconnect, Sentinel
	// failover, lost redirect) so changes may have been missed.
	All bool
	// Reason says why All was set, for logs ("flush", "reconnect", ...).
	Reason string
}

// Common values of Invalidation.Reason.
const (
	ReasonFlush     = "flush"
	ReasonReconnect = "reconnect"
	ReasonOverflow  = "overflow"
	ReasonFailover  = "failover"
)
