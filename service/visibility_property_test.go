package service_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"
)

// visibilityModel is the partner view computed the plain way, from the
// same commands the service gets: who serves, who ordered what, the grants,
// and where channel changes moved each partner.
type visibilityModel struct {
	serving []string
	grants  map[[2]string]bool // {grantee, source}
	moved   map[string]string
	orders  map[string]string // subscription name -> ordering partner
}

func (m *visibilityModel) serves(p string) bool { return slices.Contains(m.serving, p) }

func (m *visibilityModel) channel(p string) string {
	for {
		to, ok := m.moved[p]
		if !ok {
			return p
		}
		p = to
	}
}

// sees is what partner p may see (nil: the account is not its customer).
func (m *visibilityModel) sees(p string) []string {
	if !m.serves(p) {
		return nil
	}
	out := []string{}
	for name, by := range m.orders {
		ch := m.channel(by)
		if ch == p || m.grants[[2]string{p, ch}] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func (m *visibilityModel) grantable(g, s string) bool {
	return len(m.serving) >= 2 && g != s && m.serves(g) && m.serves(s)
}

func (m *visibilityModel) change(from, to string) {
	m.serving = slices.DeleteFunc(m.serving, func(p string) bool { return p == from })
	if !m.serves(to) {
		m.serving = append(m.serving, to)
	}
	m.moved[from] = to
	next := map[[2]string]bool{}
	for g := range m.grants {
		if g[1] == from {
			continue // nobody was allowed to see the new partner's own orders
		}
		if g[0] == from {
			g[0] = to
		}
		if g[0] != g[1] {
			next[g] = true
		}
	}
	m.grants = next
}

// The partner view after every random sequence of association, orders,
// grants, revocations and channel changes equals the plain model's.
func TestPartnerVisibility_matches_a_plain_model_after_random_sequences(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("op-1", "ops@bizcenter.example", true)
	const partners = 4
	ids, tokens := make([]string, partners), make([]string, partners)
	for i := range partners {
		ids[i], tokens[i] = h.partner("P"+strconv.Itoa(i), fmt.Sprintf("admin@p%d.example", i))
	}
	grants := "/v1/accounts/" + accountID + "/partner-visibility/grants"
	m := &visibilityModel{grants: map[[2]string]bool{}, moved: map[string]string{}, orders: map[string]string{}}
	rng := rand.New(rand.NewPCG(7, 2026))
	pos := ""
	pick := func() int { return rng.IntN(partners) }
	for step := range 60 {
		i, j := pick(), pick()
		p, q := ids[i], ids[j]
		var code int
		var body map[string]any
		want := http.StatusOK
		switch r := rng.IntN(10); {
		case r < 2:
			code, body = h.call("PUT", "/v1/accounts/"+accountID+"/partners/"+p, op, nil)
			if _, gone := m.moved[p]; gone && !m.serves(p) {
				want = http.StatusUnprocessableEntity
			} else if code == want && !m.serves(p) {
				m.serving = append(m.serving, p)
			}
		case r < 4:
			b := purchase("order-" + strconv.Itoa(step))
			b["orderingPartnerId"] = p
			code, body = h.call("POST", "/v1/accounts/"+accountID+"/subscriptions", tokens[i], b)
			want = http.StatusCreated
			if !m.serves(p) {
				want = http.StatusNotFound
			} else if code == want {
				m.orders["order-"+strconv.Itoa(step)] = p
			}
		case r < 7:
			code, body = h.call("POST", grants, admin, map[string]any{"granteePartnerId": p, "sourcePartnerId": q})
			want = http.StatusCreated
			if !m.grantable(p, q) {
				want = http.StatusUnprocessableEntity
			} else if code == want {
				m.grants[[2]string{p, q}] = true
			}
		case r < 9:
			code, body = h.call("DELETE", grants+"/"+p+"/"+q, admin, nil)
			if !m.grants[[2]string{p, q}] {
				want = http.StatusNotFound
			} else if code == want {
				delete(m.grants, [2]string{p, q})
			}
		default:
			code, body = h.call("POST", "/v1/accounts/"+accountID+"/channel-partner-changes", op, map[string]any{"fromPartnerId": p, "toPartnerId": q})
			if _, gone := m.moved[q]; !m.serves(p) || p == q || gone {
				want = http.StatusUnprocessableEntity
			} else if code == want {
				m.change(p, q)
			}
		}
		if code != want {
			t.Fatalf("step %d: %d, want %d: %v", step, code, want, body)
		}
		if s, ok := body["position"].(string); ok {
			pos = s
		}
		for k := range partners {
			path := "/v1/partners/" + ids[k] + "/accounts/" + accountID + "/subscriptions?limit=500&after=" + pos
			code, page := h.call("GET", path, tokens[k], nil)
			want := m.sees(ids[k])
			switch {
			case want == nil && code != http.StatusNotFound:
				t.Fatalf("step %d: P%d does not serve the account but reads it: %d %v", step, k, code, page)
			case want != nil && code != http.StatusOK:
				t.Fatalf("step %d: P%d: %d %v", step, k, code, page)
			case want != nil && !slices.Equal(names(t, page), want):
				t.Fatalf("step %d: P%d sees %v, the model %v", step, k, names(t, page), want)
			}
		}
	}
	if len(m.orders) == 0 || len(m.moved) == 0 {
		t.Fatalf("the sequence exercised too little: %d orders, %d channel changes", len(m.orders), len(m.moved))
	}
}
