package mailer

import (
	"embed"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// Invitation is what an invitation email tells.
type Invitation struct {
	FirstName, LastName string
	// AccountName may be empty when the mailer never saw the account; the
	// templates then leave it out.
	AccountName string
	Token       string
	AcceptURL   string
	ExpiresAt   time.Time
}

// AcceptURL is the link an invitee opens: <base>/accept?token=<token>.
func AcceptURL(base, token string) string {
	return strings.TrimRight(base, "/") + "/accept?token=" + url.QueryEscape(token)
}

// locale is one language's templates and conventions.
type locale struct {
	// tmpl holds each kind of email's "subject" and "body", by kind.
	tmpl map[string]*template.Template
	// zone times (an expiry, a grant) are shown in.
	zone *time.Location
	// name joins a person's names the way the language writes them.
	name func(first, last string) string
}

// fallbackLanguage is used for any language with no templates.
const fallbackLanguage = "en"

var locales = map[string]locale{
	"en": {tmpl: parse("en"), zone: time.UTC, name: westernName},
	// Korea keeps no daylight saving time, so a fixed zone is exact.
	"ko": {tmpl: parse("ko"), zone: time.FixedZone("KST", 9*60*60), name: koreanName},
}

// Kinds of email, each with a templates/<kind>.<language>.tmpl per
// language. Each file is parsed alone, so all may name their parts
// "subject" and "body".
const (
	kindInvitation        = "invitation"
	kindVisibilityGranted = "visibility_granted"
	kindTechnicalBenefit  = "technical_benefit"
	kindMarketingContact  = "marketing_contact"
)

func parse(lang string) map[string]*template.Template {
	kinds := map[string]*template.Template{}
	for _, kind := range []string{kindInvitation, kindVisibilityGranted, kindTechnicalBenefit, kindMarketingContact} {
		kinds[kind] = template.Must(template.New(kind).Option("missingkey=error").
			ParseFS(templateFiles, "templates/"+kind+"."+lang+".tmpl"))
	}
	return kinds
}

// Language is the language with templates for a BCP 47 tag: its primary
// subtag when known ("ko-KR" → "ko"), English otherwise.
func Language(tag string) string {
	primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	primary = strings.ToLower(strings.TrimSpace(primary))
	if _, ok := locales[primary]; ok {
		return primary
	}
	return fallbackLanguage
}

// RenderInvitation writes the invitation email in the language of the
// tag. The message has its Subject, TextBody and Content-Language header;
// the caller addresses it.
func RenderInvitation(languageTag string, inv Invitation) (Message, error) {
	lang := Language(languageTag)
	return render(kindInvitation, lang, struct {
		Name, AccountName, Token, AcceptURL string
		ExpiresAt                           time.Time
	}{
		Name:        PersonName(lang, inv.FirstName, inv.LastName),
		AccountName: strings.TrimSpace(inv.AccountName),
		Token:       inv.Token,
		AcceptURL:   inv.AcceptURL,
		ExpiresAt:   inv.ExpiresAt.In(locales[lang].zone),
	})
}

// render executes one kind's templates of a language (as Language
// returns it) into a message with Subject, TextBody and Content-Language.
func render(kind, lang string, data any) (Message, error) {
	t := locales[lang].tmpl[kind]
	var subject, body strings.Builder
	if err := t.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Message{}, fmt.Errorf("%s subject (%s): %w", kind, lang, err)
	}
	if err := t.ExecuteTemplate(&body, "body", data); err != nil {
		return Message{}, fmt.Errorf("%s body (%s): %w", kind, lang, err)
	}
	return Message{
		Subject:  strings.Join(strings.Fields(subject.String()), " "),
		TextBody: body.String(),
		Headers:  map[string]string{"Content-Language": lang},
	}, nil
}

// PersonName is how an email in the tag's language names a person.
func PersonName(languageTag, first, last string) string {
	return locales[Language(languageTag)].name(first, last)
}

func westernName(first, last string) string { return strings.TrimSpace(first + " " + last) }

// koreanName writes a Korean name family name first with no space (홍길동);
// other names keep their given-name-first order.
func koreanName(first, last string) string {
	if isHangul(first) && isHangul(last) {
		return last + first
	}
	return westernName(first, last)
}

func isHangul(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.Is(unicode.Hangul, r) })
}
