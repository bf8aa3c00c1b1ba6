package readapi

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/idn"
)

// User is one item of GET /v1/accounts/{accountId}/users.
type User struct {
	UserID              string     `json:"userId"`
	Email               string     `json:"email"`
	FirstName           string     `json:"firstName"`
	LastName            string     `json:"lastName"`
	Status              string     `json:"status"`
	Roles               []string   `json:"roles"`
	InvitedAt           time.Time  `json:"invitedAt"`
	InvitationExpiresAt time.Time  `json:"invitationExpiresAt"`
	ActivatedAt         *time.Time `json:"activatedAt"`
	// OutsideDomains flags an email outside every domain of an account that
	// has domains (allowed, but worth a look).
	OutsideDomains bool `json:"outsideDomains"`
}

// UserPage is GET /v1/accounts/{accountId}/users: Counts are the whole
// account's, Total the number of users matching the filters.
type UserPage struct {
	Items      []User  `json:"items"`
	NextCursor *string `json:"nextCursor"`
	Counts     Counts  `json:"counts"`
	Total      int     `json:"total"`
}

// UserDetail is GET /v1/accounts/{accountId}/users/{userId}.
type UserDetail struct {
	User
	Language    string       `json:"language"`
	Country     string       `json:"country"`
	Invitations []Invitation `json:"invitations"`
	History     []History    `json:"history"`
}

// History is one thing that happened to a user: invited, resent, expired,
// accepted or roles_changed (with the roles it gave), at when it happened
// (an expiry at the invitation's end, however late the sweeper recorded
// it).
type History struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	By    string    `json:"by"`
	Roles []string  `json:"roles,omitempty"`
}

// Invitation is one invitation a user was sent, by whom.
type Invitation struct {
	SentAt    time.Time `json:"sentAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	By        string    `json:"by"`
}

const (
	defaultLimit = kit.DefaultLimit
	maxLimit     = kit.MaxLimit
	maxEmail     = 320
	// maxName bounds ?name: a first and a last name of 100 characters
	// each, in UTF-8.
	maxName = 1000
)

// statusFilters whitelists ?status, each with its SQL condition.
var statusFilters = map[string]string{"all": "", "pending": pendingSQL, "active": activeSQL, "expired": expiredSQL}

// roleValues whitelists ?role (the roles' JSON values of the API).
var roleValues = map[string]bool{
	"account_administrator": true, "agreement_administrator": true, "user_administrator": true,
	"account_manager": true, "reports_viewer": true, "account_viewer": true,
}

// listRequest is a parsed GET /v1/accounts/{accountId}/users.
type listRequest struct {
	assignerRequest
	filter userFilter
	order  keyOrder[userRow]
	after  []any // the cursor's keyset values; nil on the first page
	limit  int
}

func parseList(in *input, p kit.Principal) listRequest {
	q := listRequest{assignerRequest: parseAssigner(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
	// As email_lower holds emails: "@회사.한국" finds
	// jiwoo@xn--vf4b131b.xn--3e0b707e. Text without an @ stays as typed, as
	// the part before an @ is kept in any script.
	if q.filter.email = idn.FoldEmail(in.values.Get("email")); len(q.filter.email) > maxEmail {
		in.fail("email", "longer than 320 characters")
	}
	if q.filter.name = strings.ToLower(strings.TrimSpace(in.values.Get("name"))); len(q.filter.name) > maxName {
		in.fail("name", "longer than "+strconv.Itoa(maxName)+" bytes")
	}
	q.filter.statusName, q.filter.status = oneOf(in, "status", "all", statusFilters)
	if in.values.Get("role") != "" {
		q.filter.role, _ = oneOf(in, "role", "", roleValues)
	}
	order, ok := parseKeyOrder(in, "email", userSortKeys, userIDKey)
	q.order, q.after = order, cursorArgs(in, order, ok)
	return q
}

var (
	emailKey  = keyOf[userRow]{"u.email_lower", "text", func(r userRow) string { return r.emailLower }}
	userIDKey = keyOf[userRow]{"u.user_id", "uuid", func(r userRow) string { return r.UserID }}
)

// userSortKeys whitelists the sorts of user lists. Statuses sort
// alphabetically (active, expired, pending), then by email.
var userSortKeys = map[string][]keyOf[userRow]{
	"email":     {emailKey},
	"name":      {{"u.name_sort", "text", func(r userRow) string { return r.nameSort }}},
	"invitedAt": {{"u.invited_at", "timestamptz", func(r userRow) string { return r.InvitedAt.Format(time.RFC3339Nano) }}},
	"status":    {{statusSQL, "text", func(r userRow) string { return r.Status }}, emailKey},
}

func (d Deps) listUsersRoute() kit.Route {
	return get(kit.Route{
		Path:     "/v1/accounts/{accountId}/users",
		Summary:  "Search, filter and sort an account's users, a page at a time",
		Access:   Member,
		Response: UserPage{Items: []User{exampleUser}, NextCursor: new("eyJzIjoiZW1haWwiLCJrIjpbIi4uLiJdfQ"), Counts: exampleAccount.UserCounts, Total: 1},
		Query: map[string]string{
			"email":     "case-insensitive substring of the contact email",
			"name":      "case-insensitive substring of the name, first name first or family name first (김지우, Lovelace Ada), to pick people to give licenses",
			"status":    "all (default), pending, active or expired",
			"role":      "only users holding this role, e.g. user_administrator",
			"sort":      "email (default), name, invitedAt or status (alphabetical: active, expired, pending; then email); prefix - for descending",
			"limit":     "page size, 1 to 500 (default 50)",
			"cursor":    cursorQuery,
			"partnerId": partnerIDQuery + ", to choose whom to give licenses",
		},
		Handler: endpoint(d, reads{usersProjector}, parseList, func(ctx context.Context, q listRequest) (UserPage, error) {
			return listUsers(ctx, d.Pool, q, d.Clock.Now())
		}),
	})
}

// userRequest is a parsed GET /v1/accounts/{accountId}/users/{userId}.
type userRequest struct {
	accountRequest
	userID uuid.UUID
}

func parseUser(in *input, p kit.Principal) userRequest {
	return userRequest{accountRequest: parseAccount(in, p), userID: in.pathUUID("userId")}
}

func (d Deps) userRoute() kit.Route {
	return get(kit.Route{
		Path:    "/v1/accounts/{accountId}/users/{userId}",
		Summary: "One user of an account, with every invitation sent to them",
		Access:  Member,
		Response: UserDetail{User: exampleUser, Language: "en", Country: "GB",
			Invitations: []Invitation{{SentAt: exampleUser.InvitedAt, ExpiresAt: exampleUser.InvitationExpiresAt, By: "auth0|operator-1"}}},
		Handler: endpoint(d, reads{usersProjector}, parseUser, func(ctx context.Context, q userRequest) (UserDetail, error) {
			return userByID(ctx, d.Pool, q, d.Clock.Now())
		}),
	})
}

var exampleUser = User{
	UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f81", Email: "Ada.Lovelace@contoso.example",
	FirstName: "Ada", LastName: "Lovelace", Status: "pending", Roles: []string{"user_administrator"},
	InvitedAt:           time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC),
	InvitationExpiresAt: time.Date(2026, 3, 6, 9, 30, 0, 0, time.UTC),
}
