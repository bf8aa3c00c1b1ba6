package user

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/internal/idn"
)

// NormalizeEmail is the form emails are compared in (idn.FoldEmail):
// trimmed, a domain typed in Unicode in its xn-- form, as checkEmail keeps
// it, lower case; whatever the path an address came in by (a resend
// request, a new manager's email), it meets the stored one.
func NormalizeEmail(s string) string { return idn.FoldEmail(s) }

// checkEmail returns the trimmed address, or why it is not one that mail
// can be delivered to: a plain addr-spec (no display name, no comment, no
// quoted local part), nothing hidden or blank in it, at most 64 bytes
// before the @ (RFC 5321), and after it a DNS name by the rule an
// account's domains follow (domain.IsDNSName), so that the domain of a
// user's email can be matched with the account's. The part before the @
// may be in any script (RFC 6531: 김지우@contoso.example); an
// internationalised domain given in Unicode is kept in its xn-- form
// (idn.ASCIIEmail), as an account's domain is, and as mail is sent.
func checkEmail(s string) (string, string) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	switch hidden := domain.HiddenIn(s, blank); {
	case s == "":
		return "", "required"
	case len(s) > 254:
		return "", "longer than 254 characters"
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "", "contains a space"
	case hidden != "":
		return "", hidden
	case at < 0:
		return "", "not an email address: no @"
	case at == 0:
		return "", "not an email address: nothing before the @"
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s || a.Name != "" {
		return "", "not an email address"
	}
	ascii, ok := idn.ASCIIEmail(s)
	switch {
	case at > 64:
		return "", "the part before the @ is longer than 64 bytes"
	case !ok || !domain.IsDNSName(strings.ToLower(ascii[at+1:])):
		return "", "the domain after the @ must be a DNS name like contoso.com or 회사.한국"
	case len(ascii) > 254:
		return "", "longer than 254 characters with its domain in xn-- form"
	}
	return ascii, ""
}

// blank is a rune an email address cannot hold besides white space: one
// that shows nothing (domain.Hidden), or one that is no character of any
// script (unassigned, private use).
func blank(r rune) bool {
	return domain.Hidden(r) || !unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r)
}

// checkName is a person's first or last name (domain.CheckName).
func checkName(s string) (string, string) { return domain.CheckName(s, 100) }

// BCP 47 language tags of the common shapes: language, optional script,
// optional region, optional variants ("ko", "en-US", "zh-Hant-TW").
var languageTag = regexp.MustCompile(`^([a-zA-Z]{2,3})(-[a-zA-Z]{4})?(-[a-zA-Z]{2}|-[0-9]{3})?(-[a-zA-Z0-9]{5,8}|-[0-9][a-zA-Z0-9]{3})*$`)

// checkLanguage returns the tag in canonical case ("en-US").
func checkLanguage(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "required"
	}
	if !languageTag.MatchString(s) {
		return "", "not a BCP 47 language tag (like en or ko-KR)"
	}
	parts := strings.Split(s, "-")
	parts[0] = strings.ToLower(parts[0])
	for i := 1; i < len(parts); i++ {
		switch len(parts[i]) {
		case 4:
			parts[i] = strings.ToUpper(parts[i][:1]) + strings.ToLower(parts[i][1:])
		case 2:
			parts[i] = strings.ToUpper(parts[i])
		default:
			parts[i] = strings.ToLower(parts[i])
		}
	}
	return strings.Join(parts, "-"), ""
}

// checkCountry returns an ISO 3166-1 alpha-2 code in upper case.
func checkCountry(s string) (string, string) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", "required"
	}
	if len(s) != 2 || !strings.Contains(countryCodes, s+" ") {
		return "", "not an ISO 3166-1 alpha-2 country code"
	}
	return s, ""
}

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes.
const countryCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "

// CheckEmail returns a trimmed email address, or why it is not one: the
// rule every aggregate that records a person's email shares.
func CheckEmail(s string) (string, string) { return checkEmail(s) }

// CheckName returns a trimmed person's name, or why it is not one.
func CheckName(s string) (string, string) { return checkName(s) }
