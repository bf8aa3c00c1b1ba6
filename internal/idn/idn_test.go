package idn

import "testing"

// Whole addresses and the parts of one a ?email filter holds.
func TestFoldEmail_writes_a_unicode_domain_as_emails_are_kept(t *testing.T) {
	for in, want := range map[string]string{
		" JiWoo@회사.한국 ":   "jiwoo@xn--vf4b131b.xn--3e0b707e",
		"@회사.한국":          "@xn--vf4b131b.xn--3e0b707e",
		"jiwoo@회사":        "jiwoo@xn--vf4b131b", // the first label, a prefix of the kept domain
		"지우":              "지우",                 // the part before an @ is kept as typed
		"Ana@Contoso":     "ana@contoso",
		"ana@-회사":         "ana@-회사",          // no domain: left as typed, finds nothing
		"@STRAẞE.example": "@strasse.example", // mapped before lower-casing, as emails are kept
	} {
		if got := FoldEmail(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
