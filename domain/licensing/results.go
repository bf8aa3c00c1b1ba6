package licensing

import "github.com/google/uuid"

// Outcome of one user and product.
type Outcome string

const (
	Assigned    Outcome = "assigned"
	AlreadyHeld Outcome = "already_held"
	Revoked     Outcome = "revoked"
	NotHeld     Outcome = "not_held"
	Refused     Outcome = "refused"
)

// Reasons a user is refused a product (assigning or revoking). They are
// stable, machine-readable names.
const (
	UserNotInAccount   = "user-not-in-account"
	UserNotActive      = "user-not-active"
	UserErased         = "user-erased"
	NotSoldInCountry   = "not-sold-in-country"
	ConflictsWithHeld  = "conflicts-with-held"
	ConflictsInRequest = "conflicts-in-request"
	RequiresProduct    = "requires-product"
	NotEnoughLicenses  = "not-enough-licenses"
	RequiredByHeld     = "required-by-held"
	OutsideScope       = "held-outside-your-subscriptions"
)

// Result is the outcome for one user and one product.
type Result struct {
	UserID    uuid.UUID
	ProductID string
	Outcome   Outcome
	// Reason of a refusal; Detail names what it refers to (the product
	// conflicting or required, the country, the licenses needed).
	Reason, Detail string
	// SubscriptionID the license came from (assigned) or went back to
	// (revoked).
	SubscriptionID *uuid.UUID
}

// RequestRefused: a request that is all or nothing (one subscription's
// self-service assignment or unassignment) had refusals, so nothing was
// recorded. Results are the refusals.
type RequestRefused struct {
	Results []Result
}

func (e *RequestRefused) Error() string {
	return itoa(len(e.Results)) + " refused: nothing was recorded"
}
