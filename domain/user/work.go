package user

import (
	"strings"

	"github.com/bizcenter/bizcenter/domain"
)

// checkWorkEmail is checkEmail for the email a customer's user signs in
// with, which must not be at a consumer mail service
// (domain.PersonalMailDomain). Alternate emails and partners' users keep
// checkEmail: an alternate email is where a personal mailbox belongs.
func checkWorkEmail(s string) (string, string) {
	email, why := checkEmail(s)
	if why != "" {
		return "", why
	}
	d := strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
	if domain.PersonalMailDomain(d) {
		return "", "a personal mailbox (" + d + "): use the person's work account, the email their company gave them"
	}
	return email, ""
}
