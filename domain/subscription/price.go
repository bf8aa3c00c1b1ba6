package subscription

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bizcenter/bizcenter/domain"
)

// Price is an exact decimal amount with its ISO 4217 currency. The amount
// travels as a string ("1234.50") so that no float ever rounds it.
type Price struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// An amount: up to 12 integer digits without leading zeros, up to 4
// decimals.
var amount = regexp.MustCompile(`^(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?$`)

// currencies are the ISO 4217 codes in use that customers pay in.
const currencies = " AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY KRW MXN MYR " +
	"NGN NOK NZD PEN PHP PKR PLN QAR RON RSD RUB SAR SEK SGD THB TRY TWD UAH USD VND ZAR "

// zeroDecimal are the currencies of our list paid in whole units.
var zeroDecimal = []string{"CLP", "ISK", "JPY", "KRW", "VND"}

// MinorDigits is how many decimals an amount in a currency is paid and
// invoiced with: 0 for CLP, ISK, JPY, KRW and VND, 2 for the others.
func MinorDigits(currency string) int {
	if slices.Contains(zeroDecimal, currency) {
		return 0
	}
	return 2
}

// checkPrice returns the price in canonical form, recording each bad
// field in verr.
func checkPrice(p Price, verr *domain.ValidationError) Price {
	p.Amount = strings.TrimSpace(p.Amount)
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	knownCurrency := len(p.Currency) == 3 && strings.Contains(currencies, " "+p.Currency+" ")
	switch {
	case !amount.MatchString(p.Amount):
		verr.Add("price.amount", "a decimal like 1234.50: up to 12 digits, up to 4 decimals, no sign or exponent")
	case knownCurrency && !payable(p.Amount, MinorDigits(p.Currency)):
		// An invoice and a refund are in the currency's minor unit: a
		// price finer than it would be invoiced as another amount.
		verr.Add("price.amount", finerThan(p.Currency))
	}
	if !knownCurrency {
		verr.Add("price.currency", "an ISO 4217 currency code like USD, EUR or KRW")
	}
	return p
}

// finerThan says what an amount in currency may not be finer than.
func finerThan(currency string) string {
	if MinorDigits(currency) == 0 {
		return currency + " is paid in whole units: no decimals but zeros"
	}
	return fmt.Sprintf("%s is paid in hundredths: no more than %d decimals but zeros", currency, MinorDigits(currency))
}

// payable reports whether a decimal amount has no digit other than 0
// past the first digits decimals.
func payable(amount string, digits int) bool {
	_, decimals, _ := strings.Cut(amount, ".")
	return len(decimals) <= digits || strings.Trim(decimals[digits:], "0") == ""
}

// Check returns the price in canonical form, recording each bad field in
// verr as price.amount or price.currency: the rule of every exact price
// (benefit packages use it too).
func (p Price) Check(verr *domain.ValidationError) Price { return checkPrice(p, verr) }
