// Package kit is what every HTTP route of bizcenter shares: problem
// documents (RFC 9457), strict JSON decoding, the caller's identity, and
// the declaration of a route that also feeds the OpenAPI document.
package kit

import (
	"encoding/json"
	"net/http"
)

// ProblemBase prefixes every problem type.
const ProblemBase = "https://bizcenter.dev/problems/"

// BadPosition is the reason for a position (?after, a header) that is
// not one a command answered.
const BadPosition = "must be a position as commands answer it (commit-prepare)"

// FieldProblem names one bad field.
type FieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []FieldProblem `json:"errors,omitempty"`
	// RetryAfter, in seconds, is sent as a header (503 while catching up).
	RetryAfter int `json:"-"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// NewProblem builds a problem of a status with a type name.
func NewProblem(status int, typ, detail string) *Problem {
	return &Problem{Type: ProblemBase + typ, Title: http.StatusText(status), Status: status, Detail: detail}
}

// Invalid is a 400 naming each bad field.
func Invalid(fields ...FieldProblem) *Problem {
	p := NewProblem(http.StatusBadRequest, "invalid-input", "the request has invalid fields")
	p.Errors = fields
	return p
}

// WriteProblem sends a problem document.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteJSON sends a JSON body.
func WriteJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
