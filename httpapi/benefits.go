package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type benefitSpecBody struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ProductID  string `json:"productId,omitempty"`
	Quantity   int    `json:"quantity"`
	CloudModel string `json:"cloudModel,omitempty"`
	TermDays   int    `json:"termDays,omitempty"`
}

type packageBody struct {
	Name     string             `json:"name"`
	Price    subscription.Price `json:"price"`
	Benefits []benefitSpecBody  `json:"benefits"`
}

type benefitRef struct {
	BenefitID uuid.UUID    `json:"benefitId"`
	Kind      benefit.Kind `json:"kind"`
	Name      string       `json:"name"`
}

type packageBoughtBody struct {
	PackageID uuid.UUID    `json:"packageId"`
	Benefits  []benefitRef `json:"benefits"`
	Position  string       `json:"position"`
}

type keyBody struct {
	Language string `json:"language,omitempty"`
	OS       string `json:"os,omitempty"`
}

// A license-based cloud benefit's key needs neither field.
func (keyBody) mayBeLeftOut() {}

type keyAnswerBody struct {
	ProductKey string `json:"productKey"`
	Status     string `json:"status"`
	Position   string `json:"position"`
}

type assigneeBody struct {
	UserID         string `json:"userId"`
	AlternateEmail string `json:"alternateEmail,omitempty"`
}

type contactBody struct {
	UserID         string `json:"userId"`
	AlternateEmail string `json:"alternateEmail"`
	Phone          string `json:"phone"`
	Language       string `json:"language"`
}

type benefitStatusBody struct {
	Status string `json:"status"`
	// ExpiresAt is when an activated go-to-market benefit ends (absent
	// when this request activated nothing: read the benefit).
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	Position  string     `json:"position"`
}

type packageCancelBody struct {
	// Refund is required: true asks for the price back (within 30 days of
	// the purchase, while no software benefit was activated).
	Refund *bool  `json:"refund"`
	Reason string `json:"reason,omitempty"`
}

type packageCancelledBody struct {
	Status       string              `json:"status"`
	Refund       bool                `json:"refund"`
	RefundAmount *subscription.Price `json:"refundAmount"`
	Position     string              `json:"position"`
}

var examplePackage = packageBody{Name: "Action Pack 2026", Price: subscription.Price{Amount: "475.00", Currency: "USD"}, Benefits: []benefitSpecBody{
	{Kind: "software", Name: "Windows Server 2025 Standard", ProductID: "windows-server-2025", Quantity: 16},
	{Kind: "cloud", Name: "Azure credits", CloudModel: "usage", Quantity: 1},
	{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 3},
	{Kind: "technical", Name: "Partner advisory hours", Quantity: 2},
	{Kind: "go_to_market", Name: "Silver core", Quantity: 1, TermDays: 365},
}}

// status is a benefit's status after a command on it.
func status(res commands.PackageChanged) benefitStatusBody {
	b := benefitStatusBody{Status: "active", Position: res.Position.String()}
	for _, e := range res.Events {
		if a, ok := e.(benefit.Activated); ok {
			b.ExpiresAt = a.ExpiresAt
		}
	}
	return b
}

func benefitRoutes(c BillingCommands, log *slog.Logger) []kit.Route {
	pkg := []string{"partnerId", "packageId"}
	one := []string{"partnerId", "packageId", "benefitId"}
	base := "/v1/partners/{partnerId}/benefit-packages/{packageId}"
	of := func(id ids) commands.PackageTarget {
		return commands.PackageTarget{PartnerID: id["partnerId"], PackageID: id["packageId"], BenefitID: id["benefitId"]}
	}
	by := func(r *http.Request, id ids) commands.PackageTarget {
		t := of(id)
		t.By = actor(r)
		return t
	}
	use := []int{400, 401, 403, 404, 409, 422, 503} // 503: another change of the partner held it up
	return append([]kit.Route{{
		Method: http.MethodPost, Path: "/v1/partners/{partnerId}/benefit-packages", Access: kit.SignedIn,
		Summary: "Buy a partner-network benefit package with its benefits (any user of the partner: no special role)",
		Request: examplePackage, Response: packageBoughtBody{}, Success: http.StatusCreated, Statuses: []int{400, 401, 403, 404, 409, 503},
		Handler: command(log, []string{"partnerId"}, func(r *http.Request, id ids, b packageBody) (int, any, error) {
			o := benefit.Order{Name: b.Name, Price: b.Price}
			for _, s := range b.Benefits {
				o.Benefits = append(o.Benefits, benefit.Spec(s))
			}
			res, err := c.PurchasePackage.Handle(r.Context(), commands.PurchaseBenefitPackage{By: actor(r), PartnerID: id["partnerId"], Order: o})
			out := packageBoughtBody{PackageID: res.Purchased.PackageID, Benefits: []benefitRef{}, Position: res.Position.String()}
			for _, b := range res.Purchased.Benefits {
				out.Benefits = append(out.Benefits, benefitRef{b.BenefitID, b.Kind, b.Name})
			}
			return http.StatusCreated, out, err
		}),
	}, {
		Method: http.MethodPost, Path: base + "/benefits/{benefitId}/product-key", Access: kit.SignedIn,
		Summary: "Get the product key of a software benefit (language and os required) or a license-based cloud benefit; " +
			"records who and when, and activates the benefit (global admins)",
		Request: keyBody{Language: "ko-KR", OS: "windows-x64"}, Response: keyAnswerBody{}, Success: http.StatusOK, Statuses: use,
		Handler: command(log, one, func(r *http.Request, id ids, b keyBody) (int, any, error) {
			res, err := c.RetrieveKey.Handle(r.Context(), commands.RetrieveProductKey{PackageTarget: by(r, id), Language: b.Language, OS: b.OS})
			return http.StatusOK, keyAnswerBody{ProductKey: res.Key, Status: "active", Position: res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPut, Path: base + "/benefits/{benefitId}/company-assignment", Access: kit.SignedIn,
		Summary:  "Assign the partner organization itself to a usage-based cloud benefit, which activates it (global admins)",
		Response: benefitStatusBody{}, Success: http.StatusOK, Statuses: use,
		Handler: command(log, one, func(r *http.Request, id ids, _ noBody) (int, any, error) {
			res, err := c.AssignCompany.Handle(r.Context(), by(r, id))
			return http.StatusOK, status(res), err
		}),
	}, {
		Method: http.MethodPost, Path: base + "/benefits/{benefitId}/assignees", Access: kit.SignedIn,
		Summary: "Assign a user of the partner to a Visual Studio subscription or a technical benefit (with an alternateEmail other " +
			"than their sign-in email; instructions go to both), never more than the quantity (global admins)",
		Request:  assigneeBody{UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91", AlternateEmail: "sam.support@litware-mail.example"},
		Response: benefitStatusBody{}, Success: http.StatusCreated, Statuses: use,
		Handler: command(log, one, func(r *http.Request, id ids, b assigneeBody) (int, any, error) {
			userID, err := requiredID("userId", b.UserID)
			if err != nil {
				return 0, nil, err
			}
			res, err := c.AssignUser.Handle(r.Context(), commands.AssignBenefitUser{PackageTarget: by(r, id), UserID: userID, AlternateEmail: b.AlternateEmail})
			return http.StatusCreated, status(res), err
		}),
	}, {
		Method: http.MethodPut, Path: base + "/benefits/{benefitId}/assignees/{userId}", Access: kit.SignedIn,
		Summary: "Reassign the place the user in the path holds to the user in the body (global admins); from a user the partner " +
			"removed, whose place was freed, only while a place is free (422 quantity-exhausted)",
		Request: assigneeBody{UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f92"}, Response: benefitStatusBody{}, Success: http.StatusOK, Statuses: use,
		Handler: command(log, append(one, "userId"), func(r *http.Request, id ids, b assigneeBody) (int, any, error) {
			userID, err := requiredID("userId", b.UserID)
			if err != nil {
				return 0, nil, err
			}
			from := id["userId"]
			res, err := c.AssignUser.Handle(r.Context(), commands.AssignBenefitUser{PackageTarget: by(r, id), FromUserID: &from, UserID: userID, AlternateEmail: b.AlternateEmail})
			return http.StatusOK, status(res), err
		}),
	}, {
		Method: http.MethodDelete, Path: base + "/benefits/{benefitId}/assignees/{userId}", Access: kit.SignedIn,
		Summary:  "Unassign a user from a Visual Studio subscription or a technical benefit (global admins)",
		Response: positionBody{}, Success: http.StatusOK, Statuses: use,
		Handler: command(log, append(one, "userId"), func(r *http.Request, id ids, _ noBody) (int, any, error) {
			res, err := c.UnassignUser.Handle(r.Context(), commands.UnassignBenefitUser{PackageTarget: by(r, id), UserID: id["userId"]})
			return http.StatusOK, positionBody{res.Position.String()}, err
		}),
	}}, goToMarketRoutes(c, log, base, pkg, one, by)...)
}

func goToMarketRoutes(c BillingCommands, log *slog.Logger, base string, pkg, one []string, by func(*http.Request, ids) commands.PackageTarget) []kit.Route {
	return []kit.Route{{
		Method: http.MethodPut, Path: base + "/marketing-contact", Access: kit.SignedIn,
		Summary: "Set the marketing contact of the package's go-to-market benefits: a user of the partner, an alternate email " +
			"other than their sign-in email, a phone and a language; the instructions are emailed to the alternate email, in that language " +
			"(global admins, partner network admins)",
		Request:  contactBody{UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91", AlternateEmail: "sam.marketing@litware-mail.example", Phone: "+82 2 1234 5678", Language: "ko-KR"},
		Response: positionBody{}, Success: http.StatusOK, Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, pkg, func(r *http.Request, id ids, b contactBody) (int, any, error) {
			userID, err := requiredID("userId", b.UserID)
			if err != nil {
				return 0, nil, err
			}
			res, err := c.SetContact.Handle(r.Context(), commands.SetMarketingContact{PackageTarget: by(r, id), UserID: userID,
				AlternateEmail: b.AlternateEmail, Phone: b.Phone, Language: b.Language})
			return http.StatusOK, positionBody{res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPost, Path: base + "/benefits/{benefitId}/activation", Access: kit.SignedIn,
		Summary:  "Activate a go-to-market benefit: needs the marketing contact; active until its term has run (global admins, partner network admins)",
		Response: benefitStatusBody{}, Success: http.StatusOK, Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, one, func(r *http.Request, id ids, _ noBody) (int, any, error) {
			res, err := c.ActivateGTM.Handle(r.Context(), by(r, id))
			return http.StatusOK, status(res), err
		}),
	}, {
		Method: http.MethodPost, Path: base + "/cancel", Access: kit.SignedIn,
		Summary: "Cancel a benefit package; with refund: true only within 30 days of the purchase and while no software benefit " +
			"was activated, else 422 naming the rule (refund-window-closed, software-benefit-activated) (global admins)",
		Request: packageCancelBody{Refund: new(true), Reason: "bought the wrong level"}, Response: packageCancelledBody{},
		Success: http.StatusOK, Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, pkg, func(r *http.Request, id ids, b packageCancelBody) (int, any, error) {
			if b.Refund == nil {
				return 0, nil, kit.Invalid(kit.FieldProblem{Field: "refund", Reason: "required: true to ask for a refund, false to cancel without one"})
			}
			res, err := c.CancelPackage.Handle(r.Context(), commands.CancelBenefitPackage{PackageTarget: by(r, id), Refund: *b.Refund, Reason: b.Reason})
			out := packageCancelledBody{Status: "cancelled", Position: res.Position.String()}
			for _, e := range res.Events {
				if e, ok := e.(benefit.PackageCancelled); ok {
					out.Refund, out.RefundAmount = e.Refund, e.RefundAmount
				}
			}
			return http.StatusOK, out, err
		}),
	}}
}

// requiredID parses a UUID from a required body field (400 naming it).
func requiredID(field, s string) (uuid.UUID, error) {
	id, bad := bodyID(field, s, false)
	if bad != nil {
		return uuid.Nil, invalid(bad)
	}
	return *id, nil
}
