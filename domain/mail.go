package domain

import "slices"

// personalMailDomains are consumer mail services: an address at one is a
// person's own mailbox, not the work account (the email their company
// gave them) that seed 001 says people sign in to the business center
// with, and none of them is an organization's domain. The Microsoft
// account domains come first (the seed names Outlook.com as the personal
// account it is not); then the large free services, the Korean ones
// among them. The list cannot hold every consumer service: it keeps out
// the usual mistake, a person's private address typed in an invitation,
// or their mail service's name typed as the organization's domain.
var personalMailDomains = []string{
	"outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com",
	"gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
	"proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.ru", "qq.com", "163.com",
	"naver.com", "daum.net", "hanmail.net", "kakao.com", "nate.com",
}

// PersonalMailDomain reports whether d, a DNS name in lower case, is a
// consumer mail service's.
func PersonalMailDomain(d string) bool { return slices.Contains(personalMailDomains, d) }
