package projections

import (
	"bytes"
	"context"
	"encoding/json"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bizcenter/bizcenter/tracing"
)

// TraceBatch starts, for each event of b that carries the trace context
// of the command that appended it, a span named verb and the event's type,
// a child of the append's span, so that one trace shows the command and
// the read models, emails and deliveries it caused. The returned func ends
// the spans with the outcome of the batch as a whole (its events commit or
// fail together).
func TraceBatch(ctx context.Context, verb string, b Batch) func(error) {
	var spans []trace.Span
	for _, r := range b.Records {
		// Most events of a catch-up carry no trace: look before parsing.
		if !bytes.Contains(r.Metadata, []byte(`"traceparent"`)) {
			continue
		}
		var m struct {
			TraceParent string `json:"traceparent"`
		}
		if json.Unmarshal(r.Metadata, &m) != nil || m.TraceParent == "" {
			continue
		}
		_, span := tracing.Start(tracing.WithTraceParent(ctx, m.TraceParent), verb+" "+r.Type,
			tracing.Attr("bizcenter.stream", r.Stream), tracing.Attr("bizcenter.position", r.Pos))
		spans = append(spans, span)
	}
	return func(err error) {
		for _, span := range spans {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, verb+" failed")
			}
			span.End()
		}
	}
}
