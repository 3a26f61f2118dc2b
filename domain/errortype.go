package domain

import (
	"context"
	"errors"
)

// ErrorType names the kind of err in a few stable, low-cardinality words,
// for the error.type attribute of metrics and spans: "canceled",
// "deadline_exceeded", "refused", "unavailable", "not_found", "wrong_type",
// "invalid_argument", "not_supported", "closed", or "_OTHER" (OpenTelemetry's
// fallback value). It returns "" for a nil err. The first match in that order
// wins, so a refusal is "refused" although it is also ErrUnavailable.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	for _, k := range errorTypes {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "_OTHER"
}

var errorTypes = []struct {
	err  error
	name string
}{
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "deadline_exceeded"},
	{ErrRefused, "refused"},
	{ErrUnavailable, "unavailable"},
	{ErrNotFound, "not_found"},
	{ErrWrongType, "wrong_type"},
	{ErrInvalidArgument, "invalid_argument"},
	{ErrNotSupported, "not_supported"},
	{ErrClosed, "closed"},
}
