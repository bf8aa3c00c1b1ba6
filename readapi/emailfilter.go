package readapi

import (
	"strings"

	"golang.org/x/net/idna"
)

// emailFilter is the ?email substring as email_lower holds it: lower case,
// and what follows an @, when typed in Unicode, in its xn-- form, as
// users' emails are kept ("@회사.한국" finds jiwoo@xn--vf4b131b.xn--3e0b707e).
// A fragment of a Unicode label after the @ converts to another label and
// finds nothing; text without an @ is left as typed, since the part before
// an @ is kept in any script. (domain.ASCIIEmail does this for commands;
// the read API reads read models only and does not import the domain.)
func emailFilter(s string) string {
	s = normalizeEmail(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 || isASCII(s[at+1:]) {
		return s
	}
	d, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil {
		return s
	}
	return s[:at+1] + strings.ToLower(d)
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
