// Package domain holds what every aggregate shares: the errors commands
// return, and the rules of text (text.go). The aggregates live in
// subpackages; the domain does no I/O.
package domain

import (
	"errors"
	"strings"
)

var (
	// ErrNotFound: the thing does not exist, or the caller may not see it.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller lacks the role for this action.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: a duplicate, or a concurrent change that retries could
	// not get past.
	ErrConflict = errors.New("conflict")
)

// FieldError names one invalid input field.
type FieldError struct {
	Field  string
	Reason string
}

// ValidationError lists every invalid field of one input.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a problem with a field.
func (e *ValidationError) Add(field, reason string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Reason: reason})
}

// Err returns the error if any field was added, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// RuleError is a well-formed request that a business rule refuses. Code is
// a stable, machine-readable name (for example "invitation-expired").
type RuleError struct {
	Code   string
	Detail string
}

func (e *RuleError) Error() string { return e.Code + ": " + e.Detail }

// IsRule reports whether err is a RuleError with this code.
func IsRule(err error, code string) bool {
	var r *RuleError
	return errors.As(err, &r) && r.Code == code
}

// LaterError is a refusal that decided nothing: what it waits for ends by
// itself (another command giving the same email to a user, an erasure the
// sweeper finishes), and the same request, sent again after RetryAfter
// seconds, may well succeed. The API says so with Retry-After, which also
// keeps the answer from being kept under an Idempotency-Key.
type LaterError struct {
	Err        error
	RetryAfter int
}

func (e *LaterError) Error() string { return e.Err.Error() }
func (e *LaterError) Unwrap() error { return e.Err }
