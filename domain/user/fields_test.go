package user_test

import (
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/domain/user"
)

func TestCheckEmail_takes_what_mail_can_be_delivered_to(t *testing.T) {
	for in, want := range map[string]string{
		" Ji-woo.Kim@Contoso.com\u00a0":        "Ji-woo.Kim@Contoso.com", // white space at the ends is trimmed
		"o'neil+billing@mail.contoso.co.kr":    "o'neil+billing@mail.contoso.co.kr",
		"김지우@contoso.example":                  "김지우@contoso.example", // RFC 6531: any script before the @
		"ana@xn--9n2bp8q.xn--3e0b707e":         "ana@xn--9n2bp8q.xn--3e0b707e",
		strings.Repeat("a", 64) + "@x.example": strings.Repeat("a", 64) + "@x.example",
		// A domain typed in Unicode is kept in its xn-- form, as mail
		// goes and as an account's domains are.
		"ana@회사.한국":          "ana@xn--vf4b131b.xn--3e0b707e",
		"김지우@회사.한국":          "김지우@xn--vf4b131b.xn--3e0b707e",
		"Jan@Bücher.example": "Jan@xn--bcher-kva.example",
		"ana@ｃｏｎｔｏｓｏ．ｋｒ":     "ana@contoso.kr", // full-width letters and dot
	} {
		if got, why := user.CheckEmail(in); got != want || why != "" {
			t.Errorf("%q: %q %q, want %q", in, got, why, want)
		}
	}
}

func TestCheckEmail_refuses_what_cannot_be_delivered_saying_why(t *testing.T) {
	for in, why := range map[string]string{
		"@contoso.example":                            "nothing before the @",
		"contoso.example":                             "no @",
		"ana maria@contoso.example":                   "contains a space",
		"ana\u00a0maria@contoso.example":              "contains a space",
		"ana\u200b@contoso.example":                   "invisible or control character (U+200B)",
		"ana@contoso.example\u200b":                   "invisible",
		"\ufeffana@contoso.example":                   "invisible",
		"ana\u202e@contoso.example":                   "invisible",
		"ana\x7f@contoso.example":                     "(U+007F)",
		"ana\ue000@contoso.example":                   "(U+E000)",
		"Ana <ana@contoso.example>":                   "contains a space",
		"<ana@contoso.example>":                       "not an email address",
		`"ana"@contoso.example`:                       "not an email address",
		"ana..b@contoso.example":                      "not an email address",
		strings.Repeat("a", 65) + "@x.example":        "longer than 64 bytes",
		"ana@localhost":                               "DNS name",
		"ana@contoso":                                 "DNS name",
		"ana@[10.0.0.1]":                              "DNS name",
		"ana@10.0.0.1":                                "DNS name",
		"ana@contoso.123":                             "DNS name",
		"ana@-contoso.example":                        "DNS name",
		"ana@contoso_x.example":                       "DNS name",
		"ana@contoso.c":                               "DNS name",
		"ana@-회사.한국":                                  "DNS name",
		"ana@회사..한국":                                  "not an email address",
		"ana@회사.":                                     "not an email address",
		"ana@회사.123":                                  "DNS name",
		"ana@회사_x.한국":                                 "DNS name", // IDNA takes letters, digits and hyphens
		"ana@회사⒈한국":                                   "DNS name",
		"ana@" + strings.Repeat("가", 60) + ".example": "DNS name", // a label of 63 bytes or more in xn-- form
	} {
		if got, reason := user.CheckEmail(in); got != "" || !strings.Contains(reason, why) {
			t.Errorf("%q: %q %q, want a reason with %q", in, got, reason, why)
		}
	}
}

// Every path an email comes in by compares it in one form.
func TestNormalizeEmail_writes_a_unicode_domain_in_its_xn_form(t *testing.T) {
	for in, want := range map[string]string{
		" JiWoo@회사.한국 ":                   "jiwoo@xn--vf4b131b.xn--3e0b707e",
		"jiwoo@XN--VF4B131B.xn--3e0b707e": "jiwoo@xn--vf4b131b.xn--3e0b707e",
		"Ana@Contoso.Example":             "ana@contoso.example",
		"김지우@contoso.example":             "김지우@contoso.example",
	} {
		if got := user.NormalizeEmail(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
