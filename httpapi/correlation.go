package httpapi

import (
	"net/http"
	"regexp"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
)

// A W3C traceparent: version-traceid-parentid-flags.
var traceparent = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// A request id a client may send: short, printable, no spaces.
var requestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// withCorrelation picks the request's correlation id (the trace id of a
// traceparent header, else X-Request-ID, else a new one), echoes it in
// X-Request-ID, and hands it to the commands.
func withCorrelation(w http.ResponseWriter, r *http.Request) *http.Request {
	id := ""
	if m := traceparent.FindStringSubmatch(r.Header.Get("traceparent")); m != nil {
		id = m[1]
	} else if h := r.Header.Get("X-Request-ID"); requestID.MatchString(h) {
		id = h
	} else {
		id = uuid.NewString()
	}
	w.Header().Set("X-Request-ID", id)
	return r.WithContext(commands.WithCorrelation(r.Context(), id))
}
