package domain_test

import (
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/domain"
)

func TestCheckName_trims_white_space_and_keeps_every_script(t *testing.T) {
	for in, want := range map[string]string{
		"  김지우 ":             "김지우",
		"\u3000Zoë Müller\t": "Zoë Müller", // an ideographic space, a tab at the end
		"\u00a0محمد":         "محمد",
		"Jean  Paul":         "Jean  Paul",    // inside, spaces stay as given
		"می\u200cخواهم":      "می\u200cخواهم", // Persian needs the zero-width non-joiner
		"क्\u200dष":          "क्\u200dष",     // Devanagari, the joiner
		"👩\u200d💻 team":      "👩\u200d💻 team",
	} {
		if got, why := domain.CheckName(in, 100); got != want || why != "" {
			t.Errorf("%q: %q %q, want %q", in, got, why, want)
		}
	}
}

func TestCheckName_refuses_hidden_characters_naming_them(t *testing.T) {
	for in, char := range map[string]string{
		"Ann\u200b":        "U+200B", // zero-width space (not trimmed: not white space)
		"\ufeffAnn":        "U+FEFF", // byte order mark
		"Ann\u00adette":    "U+00AD", // soft hyphen
		"Ann\u202eettA":    "U+202E", // right-to-left override
		"Ann\u2066x\u2069": "U+2066",
		"Ann\x1bx":         "U+001B",
		"Ann\nBob":         "U+000A", // a name is one line
		"Ann\u2028Bob":     "U+2028",
		"Ann\u0085Bob":     "U+0085", // NEL inside (at the ends it is white space)
	} {
		got, why := domain.CheckName(in, 100)
		if got != "" || !strings.Contains(why, "invisible or control character ("+char+")") {
			t.Errorf("%q: %q %q, want a reason naming %s", in, got, why, char)
		}
	}
	for in, why := range map[string]string{" \t\u3000 ": "required", strings.Repeat("가", 101): "longer than 100 characters"} {
		if _, got := domain.CheckName(in, 100); got != why {
			t.Errorf("%q: %q, want %q", in, got, why)
		}
	}
}

func TestCheckFreeText_keeps_line_breaks_and_refuses_other_hidden_characters(t *testing.T) {
	if got, why := domain.CheckFreeText(" line one\r\n\tline two\u2028 ", 100); got != "line one\r\n\tline two" || why != "" {
		t.Errorf("%q %q", got, why)
	}
	if _, why := domain.CheckFreeText("fine\u200b", 100); !strings.Contains(why, "U+200B") {
		t.Errorf("a zero-width space: %q", why)
	}
	if got, why := domain.CheckFreeText("  ", 100); got != "" || why != "" {
		t.Errorf("empty, not required: %q %q", got, why)
	}
}

func TestIsDNSName(t *testing.T) {
	for _, s := range []string{"contoso.com", "mail.contoso.co.kr", "xn--9n2bp8q.xn--3e0b707e", "a-b.example"} {
		if !domain.IsDNSName(s) {
			t.Errorf("%s refused", s)
		}
	}
	for _, s := range []string{"localhost", "contoso", "1.2.3.4", "contoso.123", "-a.com", "a-.com", "a..com", "a_b.com", "[::1]", "회사.한국", "contoso.c"} {
		if domain.IsDNSName(s) {
			t.Errorf("%s taken", s)
		}
	}
}
