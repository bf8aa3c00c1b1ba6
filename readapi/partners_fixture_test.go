package readapi

import (
	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/internal/partnerseed"
)

// The partners read model is filled through internal/partnerseed, which
// feeds its projector as the feed would.

func (f *fixture) partner(name string) uuid.UUID { return f.partners.Partner(name) }

func (f *fixture) partnerUser(partnerID uuid.UUID, email, first, last string, roles ...string) uuid.UUID {
	return f.partners.User(partnerID, email, first, last, roles...)
}

func (f *fixture) associate(accountID uuid.UUID, partners ...uuid.UUID) {
	f.partners.Associate(accountID, partners...)
}

func (f *fixture) grant(accountID, grantee, source uuid.UUID) {
	f.partners.Grant(accountID, grantee, source)
}

func (f *fixture) buy(accountID uuid.UUID, o partnerseed.Order) uuid.UUID {
	return f.partners.Buy(accountID, o)
}

func subsPath(accountID uuid.UUID, query string) string {
	return "/v1/accounts/" + accountID.String() + "/subscriptions?" + query
}

func partnerSubsPath(partnerID, accountID uuid.UUID) string {
	return "/v1/partners/" + partnerID.String() + "/accounts/" + accountID.String() + "/subscriptions"
}

func subNames(p SubscriptionPage) []string {
	out := []string{}
	for _, s := range p.Items {
		out = append(out, s.Name)
	}
	return out
}
