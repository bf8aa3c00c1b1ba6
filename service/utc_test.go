package service_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

// localTime is an RFC 3339 time with an offset other than Z.
var localTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$`)

// offsets are the paths of the values of v that are times with an offset.
func offsets(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			out = append(out, offsets(path+"."+k, e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, offsets(path+"[]", e)...)
		}
	case string:
		if localTime.MatchString(v) {
			out = append(out, path+"="+v)
		}
	}
	return out
}

// API.md: times are RFC 3339 in UTC. pgx scans a timestamptz in the
// process's zone, so with TZ=Asia/Seoul the routes that did not convert
// each time answered "…+09:00": the license routes (assignedAt,
// expiresAt) and the webhooks' list (createdAt), where creating the
// webhook had answered "…Z".
func TestReads_answer_times_in_utc_whatever_the_process_s_zone(t *testing.T) {
	seoul := time.FixedZone("KST", 9*60*60) // Asia/Seoul, without the zone database
	was := time.Local
	time.Local = seoul
	t.Cleanup(func() { time.Local = was })

	h := start(t, options{})
	accountID, admin := h.registered()
	sub := h.bought(accountID, admin, "office-e1", 5)
	user := h.person(accountID, admin, "ji-woo@northwind.example", "KR", true)
	_, out := h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{user}, "products": products("office-e1")})
	after := "?after=" + out["position"].(string)
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/webhooks", admin, map[string]any{"url": "https://hooks.example/in"})
	account := "/v1/accounts/" + accountID
	for _, path := range []string{
		account + "/subscriptions/" + sub + "/assignments" + after,
		account + "/licenses" + after + "&userIds=" + user,
		account + "/users/" + user + "/licenses" + after,
		account + "/webhooks",
		account + "/users" + after,
		account + "/subscriptions" + after,
	} {
		if got := offsets("", h.must(http.StatusOK, "GET", path, admin, nil)); len(got) > 0 {
			t.Errorf("GET %s: times not in UTC: %v", path, got)
		}
	}
}
