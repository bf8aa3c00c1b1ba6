package readapi

import (
	"strings"

	"github.com/bizcenter/bizcenter/internal/idn"
)

// emailFilter is the ?email substring as email_lower holds it, made as
// user.NormalizeEmail makes an email: trimmed, what follows an @ in its
// xn-- form when typed in Unicode (mapped as typed, before lower-casing,
// as IDNA folds some letters otherwise), then lower case
// ("@회사.한국" finds jiwoo@xn--vf4b131b.xn--3e0b707e). A fragment of a
// Unicode label after the @ converts to another label and finds nothing;
// text without an @ is left as typed, since the part before an @ is kept
// in any script.
func emailFilter(s string) string {
	s = strings.TrimSpace(s)
	if ascii, ok := idn.ASCIIEmail(s); ok {
		s = ascii
	}
	return strings.ToLower(s)
}
