package subscription

import (
	"regexp"
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

// checkPrice returns the price in canonical form, recording each bad
// field in verr.
func checkPrice(p Price, verr *domain.ValidationError) Price {
	p.Amount = strings.TrimSpace(p.Amount)
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if !amount.MatchString(p.Amount) {
		verr.Add("price.amount", "a decimal like 1234.50: up to 12 digits, up to 4 decimals, no sign or exponent")
	}
	if len(p.Currency) != 3 || !strings.Contains(currencies, " "+p.Currency+" ") {
		verr.Add("price.currency", "an ISO 4217 currency code like USD, EUR or KRW")
	}
	return p
}

// Check returns the price in canonical form, recording each bad field in
// verr as price.amount or price.currency: the rule of every exact price
// (benefit packages use it too).
func (p Price) Check(verr *domain.ValidationError) Price { return checkPrice(p, verr) }
