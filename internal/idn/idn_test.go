package idn

import "testing"

// Whole addresses and the parts of one a ?email filter holds.
func TestFoldEmail_writes_a_unicode_domain_as_emails_are_kept(t *testing.T) {
	for in, want := range map[string]string{
		" JiWoo@회사.한국 ":            "jiwoo@xn--vf4b131b.xn--3e0b707e",
		"@회사.한국":                   "@xn--vf4b131b.xn--3e0b707e",
		"jiwoo@회사":                 "jiwoo@xn--vf4b131b", // the first label, a prefix of the kept domain
		"지우":                       "지우",                 // the part before an @ is kept as typed
		"Ana@Contoso":              "ana@contoso",
		"ana@-회사":                  "ana@-회사",            // no domain: left as typed, finds nothing
		"@STRAẞE.example":          "@strasse.example",   // mapped before lower-casing, as emails are kept
		"zoe\u0308@a.example":      "zo\u00eb@a.example", // composed (NFC): the e and its mark are ë
		"ZOE\u0308":                "zo\u00eb",           // part of an address too
		"\u110c\u1175\u110b\u116e": "\uc9c0\uc6b0",       // 지우 as jamo is 지우 as syllables
	} {
		if got := FoldEmail(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
