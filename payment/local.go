package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain"
)

// Local is the provider of tests and demos: it validates cards as a real
// one would (Luhn check, brand, security code length, expiry against its
// clock, name and address present), answers Declined for the test number
// 4000 0000 0000 0002, and vaults in memory. Tokens survive as long as the
// process; an edit of a token it never issued is refused.
type Local struct {
	Clock clock.Clock
	mu    sync.Mutex
	vault map[string]Method
}

// NewLocal is a Local provider deciding expiry by clk.
func NewLocal(clk clock.Clock) *Local { return &Local{Clock: clk, vault: map[string]Method{}} }

const declinedNumber = "4000000000000002"

// Tokenize implements Provider.
func (l *Local) Tokenize(_ context.Context, c Card) (Method, error) {
	bad := map[string]string{}
	number := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, c.Number)
	brand := Brand(number)
	switch {
	case number == "":
		bad["number"] = "required"
	case len(number) < 12 || len(number) > 19 || strings.ContainsFunc(number, func(r rune) bool { return r < '0' || r > '9' }):
		bad["number"] = "12 to 19 digits"
	case !Luhn(number):
		bad["number"] = "fails the Luhn check: mistyped?"
	case brand == "":
		bad["number"] = "not a card brand we accept"
	}
	checkSecurityCode(c.SecurityCode, brand, bad)
	checkExpiry(c.ExpiryMonth, c.ExpiryYear, bad)
	checkHolder(c.NameOnCard, c.Address, bad)
	if len(bad) > 0 {
		return Method{}, &Invalid{Fields: bad}
	}
	if err := l.current(c.ExpiryMonth, c.ExpiryYear); err != nil {
		return Method{}, err
	}
	if number == declinedNumber {
		return Method{}, ErrDeclined
	}
	m := Method{Token: newToken(), Brand: brand, Last4: number[len(number)-4:], ExpiryMonth: c.ExpiryMonth, ExpiryYear: c.ExpiryYear}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.vault == nil {
		l.vault = map[string]Method{}
	}
	l.vault[m.Token] = m
	return m, nil
}

// Update implements Provider.
func (l *Local) Update(_ context.Context, m Method, e Edit) (Method, error) {
	l.mu.Lock()
	held, ok := l.vault[m.Token]
	l.mu.Unlock()
	if !ok {
		return Method{}, ErrUnknownToken
	}
	bad := map[string]string{}
	if e.SecurityCode != nil {
		checkSecurityCode(*e.SecurityCode, held.Brand, bad)
	}
	month, year := held.ExpiryMonth, held.ExpiryYear
	if e.ExpiryMonth != nil || e.ExpiryYear != nil {
		if e.ExpiryMonth == nil || e.ExpiryYear == nil {
			bad["expiryMonth"] = "give expiryMonth and expiryYear together"
		} else {
			month, year = *e.ExpiryMonth, *e.ExpiryYear
			checkExpiry(month, year, bad)
		}
	}
	if e.NameOnCard != nil {
		checkName(*e.NameOnCard, bad)
	}
	if e.Address != nil {
		checkAddress(*e.Address, bad)
	}
	if len(bad) > 0 {
		return Method{}, &Invalid{Fields: bad}
	}
	if err := l.current(month, year); err != nil {
		return Method{}, err
	}
	held.ExpiryMonth, held.ExpiryYear = month, year
	l.mu.Lock()
	l.vault[held.Token] = held
	l.mu.Unlock()
	return held, nil
}

// Forget implements Provider.
func (l *Local) Forget(_ context.Context, token string) error {
	l.mu.Lock()
	delete(l.vault, token)
	l.mu.Unlock()
	return nil
}

// current refuses a card whose expiry month is over by the clock: a card
// "12/2026" pays until the end of December 2026.
func (l *Local) current(month, year int) error {
	now := time.Now().UTC()
	if l.Clock != nil {
		now = l.Clock.Now().UTC()
	}
	if !now.Before(time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, time.UTC)) {
		return ErrExpired
	}
	return nil
}

// Luhn reports whether a string of digits passes the Luhn check.
func Luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return len(digits) > 0 && sum%10 == 0
}

// Brand names the brand of a card number by its leading digits ("" when
// none of ours).
func Brand(number string) string {
	prefix := func(lo, hi int, n int) bool {
		if len(number) < n {
			return false
		}
		v := 0
		for _, r := range number[:n] {
			v = v*10 + int(r-'0')
		}
		return v >= lo && v <= hi
	}
	switch {
	case prefix(34, 34, 2) || prefix(37, 37, 2):
		return "amex"
	case prefix(51, 55, 2) || prefix(2221, 2720, 4):
		return "mastercard"
	case prefix(6011, 6011, 4) || prefix(65, 65, 2) || prefix(644, 649, 3):
		return "discover"
	case prefix(3528, 3589, 4):
		return "jcb"
	case prefix(300, 305, 3) || prefix(36, 36, 2) || prefix(38, 39, 2):
		return "diners"
	case prefix(62, 62, 2):
		return "unionpay"
	case prefix(4, 4, 1):
		return "visa"
	}
	return ""
}

func checkSecurityCode(code, brand string, bad map[string]string) {
	n := 3
	if brand == "amex" {
		n = 4
	}
	if len(code) != n || strings.ContainsFunc(code, func(r rune) bool { return r < '0' || r > '9' }) {
		if brand == "amex" {
			bad["securityCode"] = "4 digits for this card"
		} else {
			bad["securityCode"] = "3 digits (4 on American Express)"
		}
	}
}

func checkExpiry(month, year int, bad map[string]string) {
	if month < 1 || month > 12 {
		bad["expiryMonth"] = "from 1 to 12"
	}
	if year < 2000 || year > 2199 {
		bad["expiryYear"] = "a four-digit year"
	}
}

func checkHolder(name string, a Address, bad map[string]string) {
	checkName(name, bad)
	checkAddress(a, bad)
}

func checkName(name string, bad map[string]string) {
	if why := text(name, 100, true); why != "" {
		bad["nameOnCard"] = why
	}
}

func checkAddress(a Address, bad map[string]string) {
	for field, v := range map[string]struct {
		s        string
		max      int
		required bool
	}{
		"address.line1": {a.Line1, 200, true}, "address.line2": {a.Line2, 200, false}, "address.city": {a.City, 100, true},
		"address.region": {a.Region, 100, false}, "address.postalCode": {a.PostalCode, 20, true},
	} {
		if why := text(v.s, v.max, v.required); why != "" {
			bad[field] = why
		}
	}
	if c := strings.TrimSpace(a.Country); len(c) != 2 || strings.ContainsFunc(c, func(r rune) bool { return !unicode.IsLetter(r) }) {
		bad["address.country"] = "an ISO 3166-1 alpha-2 country code"
	}
}

func text(s string, maxRunes int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "required"
	case utf8.RuneCountInString(s) > maxRunes:
		return "too long"
	}
	return domain.HiddenIn(s, domain.Hidden)
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "tok_local_" + hex.EncodeToString(b)
}
