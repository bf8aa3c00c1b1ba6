package user

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeEmail is the form emails are compared in: trimmed, lower case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkEmail returns the trimmed address, or why it is not one.
func checkEmail(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "required"
	case len(s) > 254:
		return "", "longer than 254 characters"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", "not an email address"
	}
	_, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", "the domain must be a full DNS name"
	}
	return s, ""
}

func checkName(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "required"
	case utf8.RuneCountInString(s) > 100:
		return "", "longer than 100 characters"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", "contains control characters"
	}
	return s, ""
}

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
