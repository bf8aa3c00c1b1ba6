// Package tracing is bizcenter's use of OpenTelemetry: one tracer, the W3C
// trace context as a string (stored in event metadata and carried in
// watermill metadata as "traceparent"), and the OTLP exporter when one is
// configured. Without a configured provider every span is a no-op.
package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of every span.
const Name = "github.com/bizcenter/bizcenter"

var propagator = propagation.TraceContext{}

// unset is the global tracer provider before one is set: every span it
// starts is a no-op.
var unset = otel.GetTracerProvider()

// Enabled reports whether a tracer provider has been set, so that work
// done only to start spans (a catch-up's look for a trace context in
// each event's metadata) can be skipped while every span is a no-op.
func Enabled() bool { return otel.GetTracerProvider() != unset }

// Start begins a span named name as a child of ctx's span.
func Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(Name).Start(ctx, name, trace.WithAttributes(attrs...))
}

// Attr is a string attribute of a span.
func Attr(key, value string) attribute.KeyValue { return attribute.String(key, value) }

// TraceParent is the W3C traceparent of ctx's span ("" without one).
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c["traceparent"]
}

// WithTraceParent is ctx with a remote parent span read from a
// traceparent ("" leaves ctx as it is).
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// HTTP starts a server span for each request, continuing the caller's
// trace when it sent a traceparent header.
func HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := otel.Tracer(Name).Start(ctx, r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// SetupOTLP installs a tracer provider exporting over OTLP/HTTP to
// endpoint (host:port, or a URL), and returns its shutdown.
func SetupOTLP(ctx context.Context, endpoint string) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
