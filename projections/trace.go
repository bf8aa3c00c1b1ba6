package projections

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/google/uuid"
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
	return traceBatch(ctx, verb, b).end
}

// batchSpans are the spans of a batch's traced events, by event.
type batchSpans struct {
	verb  string
	spans map[uuid.UUID]trace.Span
}

func traceBatch(ctx context.Context, verb string, b Batch) *batchSpans {
	bs := &batchSpans{verb: verb}
	if !tracing.Enabled() {
		return bs // no spans: nil reads as empty
	}
	bs.spans = map[uuid.UUID]trace.Span{}
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
		_, bs.spans[r.ID] = tracing.Start(tracing.WithTraceParent(ctx, m.TraceParent), verb+" "+r.Type,
			tracing.Attr("bizcenter.stream", r.Stream), tracing.Attr("bizcenter.position", r.Pos))
	}
	return bs
}

// fail marks the span of one event that was not applied although its
// batch was (it was parked as a dead letter, or waits behind one).
func (bs *batchSpans) fail(id uuid.UUID, err error) {
	if span, ok := bs.spans[id]; ok {
		bs.mark(span, err)
	}
}

func (bs *batchSpans) mark(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, bs.verb+" failed")
}

// end ends the spans, marking them with the batch's error if it failed.
func (bs *batchSpans) end(err error) {
	for _, span := range bs.spans {
		if err != nil {
			bs.mark(span, err)
		}
		span.End()
	}
}
