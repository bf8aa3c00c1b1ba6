// Package idn writes domain names typed in Unicode in the ASCII form DNS
// and mail use (IDNA's A-labels). It is the one place that conversion is
// made: the domain keeps emails and account domains so, and the read API
// reads its ?email filter so; neither imports the other.
package idn

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// ASCIIDomain is a domain name in the form DNS, mail and the account's
// domains use: a name given in Unicode ("회사.한국", "bücher.example") in
// its A-labels ("xn--vf4b131b.xn--3e0b707e"), mapped as IDNA lookup maps
// what people type (UTS #46: lower case, full-width letters and dots
// folded); a name of ASCII alone as it is, for IsDNSName to judge. false
// when IDNA refuses a label (a leading hyphen, an empty label, a
// character no domain may hold).
func ASCIIDomain(s string) (string, bool) {
	if isASCII(s) {
		return s, true
	}
	a, err := idna.Lookup.ToASCII(s)
	return a, err == nil
}

// ALabelsValid reports whether every label of an ASCII domain name that
// claims to be an A-label (it starts with "xn--") is one: Punycode that
// decodes to a name IDNA allows and encodes back to the same label.
// "xn--a.com" is no internationalised name, and no DNS name people type.
func ALabelsValid(d string) bool {
	for _, label := range strings.Split(d, ".") {
		if !strings.HasPrefix(strings.ToLower(label), "xn--") {
			continue
		}
		u, err := idna.Lookup.ToUnicode(label)
		if err != nil || u == label {
			return false
		}
		if a, err := idna.Lookup.ToASCII(u); err != nil || !strings.EqualFold(a, label) {
			return false
		}
	}
	return true
}

// ASCIIEmail is an address with its domain as ASCIIDomain writes it; false
// when the domain is not one. The part before the @ is left as it is:
// it may be in any script (RFC 6531).
func ASCIIEmail(email string) (string, bool) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || isASCII(email[at+1:]) {
		return email, true
	}
	d, ok := ASCIIDomain(email[at+1:])
	return email[:at+1] + d, ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FoldEmail is the form emails are compared in: trimmed, a domain typed
// in Unicode in its xn-- form, then lower case, in Unicode's composed
// form (NFC). IDNA maps the name as typed: lower-cased first, some would
// become another name (ẞ is ss to IDNA, ß to strings.ToLower). It works
// on part of an address too (the read API's ?email=@회사.한국 filter).
// The part before the @ may be in any script, and one address may come
// in two forms that show alike, ë as one character or as e and a
// combining mark, 지우 as syllables or as jamo (a paste from some systems
// gives the latter); composed, they are one email (RFC 6530, section
// 10.1), in a search as in the account's uniqueness.
func FoldEmail(s string) string {
	s = strings.TrimSpace(s)
	if ascii, ok := ASCIIEmail(s); ok {
		s = ascii
	}
	return norm.NFC.String(strings.ToLower(s))
}
