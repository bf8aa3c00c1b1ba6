package publisher

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/codes"

	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/tracing"
)

// trace starts the span of one event's publishing, a child of the span
// that appended the event (its traceparent), and puts the publishing
// span's context in the message's metadata, so that a consumer's spans
// continue the same trace. The returned func ends the span.
func trace(ctx context.Context, e integration.Event, m *message.Message) func(error) {
	ctx, span := tracing.Start(tracing.WithTraceParent(ctx, e.TraceParent), "publish "+e.Type,
		tracing.Attr("messaging.message.id", e.ID), tracing.Attr("bizcenter.position", e.Position))
	if tp := tracing.TraceParent(ctx); tp != "" {
		m.Metadata.Set(MetaTraceParent, tp)
	}
	return func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "publish failed")
		}
		span.End()
	}
}
