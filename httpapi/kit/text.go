package kit

import (
	"strings"
	"unicode/utf8"
)

// BadText says why s cannot go to PostgreSQL as text, or "" when it can:
// PostgreSQL refuses NUL and bytes that are not UTF-8 with an error that
// would otherwise surface as a 500.
func BadText(s string) string {
	switch {
	case strings.ContainsRune(s, 0):
		return "contains a NUL character"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	return ""
}
