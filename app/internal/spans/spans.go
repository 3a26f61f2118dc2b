// Package spans holds what the Cache's and the ClientCache's spans share:
// how a failed operation is recorded.
package spans

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rediscache/rediscache/domain"
)

// RecordError records err on span as an exception event, status Error and
// error.type=domain.ErrorType(err). The message is the error's text only
// when withText (error texts may name the key), else its error.type.
func RecordError(span trace.Span, err error, withText bool) {
	typ := domain.ErrorType(err)
	msg := typ
	if withText {
		msg = err.Error()
	}
	span.AddEvent("exception", trace.WithAttributes(attribute.String("exception.type", typ),
		attribute.String("exception.message", msg)))
	span.SetStatus(codes.Error, msg)
	span.SetAttributes(attribute.String("error.type", typ))
}
