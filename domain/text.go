package domain

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text rules every aggregate shares: what a name may hold, and what a
// DNS name is (an account's domains, the domain of an email address).

// A DNS name of two or more labels: letters, digits and inner hyphens, each
// label 1 to 63 characters, the top label alphabetic (or an IDN's xn--).
var dnsName = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`)

// IsDNSName reports whether s, in lower case, is a DNS name like
// contoso.com: two or more labels, the top one alphabetic, so neither an
// IP address nor a name of one label ("localhost"). An internationalised
// domain is written in its ASCII (xn--) form.
func IsDNSName(s string) bool { return len(s) <= 253 && dnsName.MatchString(s) }

// Zero-width non-joiner and joiner: format characters that Persian,
// Indic scripts and emoji sequences need to be written right.
const (
	zwnj = '\u200c'
	zwj  = '\u200d'
)

// Hidden reports whether r shows nothing of itself in a line of text: a
// control character (Unicode Cc), a format character (Cf: zero-width
// space, soft hyphen, byte order mark, bidirectional overrides), but the
// joiners some scripts need, or a line or paragraph separator (Zl, Zp).
// Such a character lets two names that look the same differ, or one
// display reversed, and a name never needs it.
func Hidden(r rune) bool {
	switch {
	case r == zwnj || r == zwj:
		return false
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp):
		return true
	}
	return false
}

// HiddenIn says which character s holds that hidden reports (Hidden,
// or a field's own rule), "" when none, for a reason: "contains an
// invisible or control character (U+200B)".
func HiddenIn(s string, hidden func(rune) bool) string {
	if i := strings.IndexFunc(s, hidden); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("contains an invisible or control character (U+%04X)", r)
	}
	return ""
}

// hiddenInText is Hidden for text of several lines, which may hold line
// breaks and tabs besides what a name may.
func hiddenInText(r rune) bool {
	return Hidden(r) && !(r == '\n' || r == '\r' || r == '\t' || unicode.In(r, unicode.Zl, unicode.Zp))
}

// CheckName returns a one-line name (a person's, an account's, a
// product's) trimmed of white space at both ends, or why it is not one:
// empty, longer than maxRunes characters, or holding a hidden character.
// White space at the ends is trimmed rather than refused, as it always
// was: it is what a paste brings along, and trimming loses nothing.
// Inside a name, spaces stay as given; every script's letters, marks and
// digits are welcome (김지우, Zoë, محمد).
func CheckName(s string, maxRunes int) (string, string) { return checkText(s, maxRunes, true, Hidden) }

// CheckFreeText is CheckName for text of several lines (feedback, a
// reason): line breaks and tabs may stay, and it may be empty.
func CheckFreeText(s string, maxRunes int) (string, string) {
	return checkText(s, maxRunes, false, hiddenInText)
}

func checkText(s string, maxRunes int, required bool, hidden func(rune) bool) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", "required"
	case utf8.RuneCountInString(s) > maxRunes:
		return "", fmt.Sprintf("longer than %d characters", maxRunes)
	}
	if why := HiddenIn(s, hidden); why != "" {
		return "", why
	}
	return s, ""
}
