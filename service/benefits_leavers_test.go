package service_test

import (
	"net/http"
	"slices"
	"testing"
)

// A user the partner removes frees the Visual Studio place they held: the
// person no longer acts for the partner. It stayed taken, listed under a
// user nobody could name, until someone unassigned them by hand.
func TestBenefits_a_removed_user_frees_their_place(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	bo, _ := h.partnerMember(partnerID, admin, "bo@alpha.example", "sales_agent")
	cy, _ := h.partnerMember(partnerID, admin, "cy@alpha.example", "sales_agent")
	sam, _ := h.partnerMember(partnerID, admin, "sam@alpha.example", "sales_agent")
	p := h.buyPack(partnerID, admin)
	vs := p.benefits["visual_studio"] + "/assignees"
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": bo})
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": cy})
	code, body := h.call("POST", vs, admin, map[string]any{"userId": sam})
	wantRule(t, "a third user of two", code, body, "quantity-exhausted")

	pos := h.must(http.StatusOK, "DELETE", "/v1/partners/"+partnerID+"/users/"+cy, admin, nil)["position"].(string)
	if b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", pos); b["remaining"] != 1.0 || len(b["assignees"].([]any)) != 1 {
		t.Fatalf("after the removal of a holder: %v", b)
	}
	pos = h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": sam})["position"].(string)
	b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", pos)
	var holders []string
	for _, a := range b["assignees"].([]any) {
		holders = append(holders, a.(map[string]any)["email"].(string))
	}
	slices.Sort(holders)
	if b["remaining"] != 0.0 || !slices.Equal(holders, []string{"bo@alpha.example", "sam@alpha.example"}) {
		t.Fatalf("the place of the removed user given to another: %v", b)
	}
	code, body = h.call("POST", vs, admin, map[string]any{"userId": sam})
	if code != http.StatusConflict {
		t.Fatalf("the same user again: %d %v", code, body)
	}
}

// Reassigning the place of a removed user takes a free place, as assigning
// does: their place was freed by the removal and may have been given to
// another since. It was moved as if still theirs, and three users held a
// Visual Studio subscription of two (remaining -1).
func TestBenefits_reassigning_from_a_removed_user_needs_a_free_place(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	bo, _ := h.partnerMember(partnerID, admin, "bo@alpha.example", "sales_agent")
	cy, _ := h.partnerMember(partnerID, admin, "cy@alpha.example", "sales_agent")
	sam, _ := h.partnerMember(partnerID, admin, "sam@alpha.example", "sales_agent")
	dee, _ := h.partnerMember(partnerID, admin, "dee@alpha.example", "sales_agent")
	p := h.buyPack(partnerID, admin)
	vs := p.benefits["visual_studio"] + "/assignees"
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": bo})
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": cy})
	h.must(http.StatusOK, "DELETE", "/v1/partners/"+partnerID+"/users/"+cy, admin, nil)
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": sam})

	code, body := h.call("PUT", vs+"/"+cy, admin, map[string]any{"userId": dee})
	wantRule(t, "reassigning the place of a removed user given to another", code, body, "quantity-exhausted")
	pos := h.must(http.StatusOK, "DELETE", vs+"/"+sam, admin, nil)["position"].(string)
	if b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", pos); b["remaining"] != 1.0 {
		t.Fatalf("after unassigning: %v", b)
	}
	// With a place free, the removed user's is given as any other.
	pos = h.must(http.StatusOK, "PUT", vs+"/"+cy, admin, map[string]any{"userId": dee})["position"].(string)
	b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", pos)
	var holders []string
	for _, a := range b["assignees"].([]any) {
		holders = append(holders, a.(map[string]any)["email"].(string))
	}
	slices.Sort(holders)
	if b["remaining"] != 0.0 || !slices.Equal(holders, []string{"bo@alpha.example", "dee@alpha.example"}) {
		t.Fatalf("the removed user's place reassigned: %v", b)
	}
}
