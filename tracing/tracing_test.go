package tracing

import (
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestEnabled_while_a_provider_is_set(t *testing.T) {
	if Enabled() {
		t.Fatal("enabled before any provider was set")
	}
	prev := otel.GetTracerProvider()
	tp := sdktrace.NewTracerProvider()
	otel.SetTracerProvider(tp)
	if !Enabled() {
		t.Error("not enabled with a provider set")
	}
	otel.SetTracerProvider(prev)
	if Enabled() {
		t.Error("still enabled once the unset provider is back")
	}
	_ = tp.Shutdown(t.Context())
}
