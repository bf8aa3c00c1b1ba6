package user

import (
	"slices"
	"strings"
)

// personalMailDomains are consumer mail services: an address at one is a
// person's own mailbox, not the work account (the email their company
// gave them) that seed 001 says people sign in to the business center
// with. The Microsoft account domains come first (the seed names
// Outlook.com as the personal account it is not); then the large free
// services, the Korean ones among them. The list cannot hold every
// consumer service: it keeps out the usual mistake, a person's private
// address typed in the invitation.
var personalMailDomains = []string{
	"outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com",
	"gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
	"proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.ru", "qq.com", "163.com",
	"naver.com", "daum.net", "hanmail.net", "kakao.com", "nate.com",
}

// checkWorkEmail is checkEmail for the email a customer's user signs in
// with, which must not be at a consumer mail service. Alternate emails
// and partners' users keep checkEmail: an alternate email is where a
// personal mailbox belongs.
func checkWorkEmail(s string) (string, string) {
	email, why := checkEmail(s)
	if why != "" {
		return "", why
	}
	d := strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
	if slices.Contains(personalMailDomains, d) {
		return "", "a personal mailbox (" + d + "): use the person's work account, the email their company gave them"
	}
	return email, ""
}
