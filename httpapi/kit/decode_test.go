package kit

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// The body shapes the routes have: an embedded struct, arrays of objects,
// a time, whole numbers.
type person struct {
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
}

type testBody struct {
	person
	Roles    []string `json:"roles"`
	Products []struct {
		ProductID string `json:"productId"`
	} `json:"products"`
	ExpiresAt     time.Time  `json:"expiresAt"`
	RenewsAt      *time.Time `json:"renewsAt"`
	TotalLicenses int        `json:"totalLicenses"`
	Small         int8       `json:"small"`
	Manager       person     `json:"manager"`
}

func decodeBody(t *testing.T, body string) *Problem {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var b testBody
	return DecodeJSON(r, &b)
}

func TestDecodeJSON_names_the_bad_field(t *testing.T) {
	for body, want := range map[string]FieldProblem{
		`{"email":"a@b.example","firstName":"Jo` + "\xe9" + `"}`:           {"firstName", "is not valid UTF-8"},
		`{"manager":{"email":"a@b.example","firstName":"` + "\xff" + `"}}`: {"manager.firstName", "is not valid UTF-8"},
		`{"roles":["a","` + "\xc3" + `"]}`:                                 {"roles[1]", "is not valid UTF-8"},
		`{"expiresAt":"not-a-date"}`:                                       {"expiresAt", "must be an RFC 3339 time, like 2026-05-01T08:00:00Z"},
		`{"email":"not-a-date","renewsAt":"not-a-date"}`:                   {"renewsAt", "must be an RFC 3339 time, like 2026-05-01T08:00:00Z"},
		`{"expiresAt":5}`:            {"expiresAt", "must be an RFC 3339 time, like 2026-05-01T08:00:00Z"},
		`{"email":123}`:              {"email", "must be a string"},
		`{"manager":{"email":true}}`: {"manager.email", "must be a string"},
		`{"products":[{"productId":"a"},{"productId":5}]}`: {"products[1].productId", "must be a string"},
		`{"products":[{}, "x"]}`:                           {"products[1]", "must be an object"},
		`{"roles":{"a":1}}`:                                {"roles", "must be an array"},
		`{"manager":[]}`:                                   {"manager", "must be an object"},
		`{"totalLicenses":5.5}`:                            {"totalLicenses", "must be a whole number"},
		`{"totalLicenses":"5"}`:                            {"totalLicenses", "must be a whole number"},
		`{"totalLicenses":1e20}`:                           {"totalLicenses", "must be a whole number from -9223372036854775808 to 9223372036854775807"},
		`{"totalLicenses":1e2}`:                            {"totalLicenses", "must be a whole number written without a fraction or exponent"},
		`{"small":300}`:                                    {"small", "must be a whole number from -128 to 127"},
		`[1]`:                                              {"body", "must be an object"},
		`{"nope":1}`:                                       {"nope", "unknown field"},
		`{"firstName":"a\ud800"}`:                          {"firstName", "holds a \\u escape of half a UTF-16 surrogate pair"},
		`{"roles":["ok","\\\ude00x"]}`:                     {"roles[1]", "holds a \\u escape of half a UTF-16 surrogate pair"},
		`{"firstName":"\ud83d\u0041"}`:                     {"firstName", "holds a \\u escape of half a UTF-16 surrogate pair"},
		`{"email":`:                                        {"body", "malformed JSON"},
		`{"roles":["a"],"email":"a@b.example","roles":["b"]}`:                {"roles", "given twice in one object (keys match ignoring case)"},
		`{"totalLicenses":5,"TotalLicenses":500}`:                            {"TotalLicenses", "given twice in one object (keys match ignoring case)"},
		`{"manager":{"email":"a@b.example","EMAIL":"c@d.example"}}`:          {"manager.EMAIL", "given twice in one object (keys match ignoring case)"},
		`{"products":[{"productId":"a"},{"productId":"b","productId":"c"}]}`: {"products[1].productId", "given twice in one object (keys match ignoring case)"},
		`{"email":"a@b.example","\u0065mail":"c@d.example"}`:                 {"email", "given twice in one object (keys match ignoring case)"},
	} {
		p := decodeBody(t, body)
		if p == nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0] != want {
			t.Errorf("%q: %+v, want 400 %+v", body, p, want)
		}
	}
}

// Every value of the wrong type is named, in the order of the body, as
// API.md promises ("each bad field named"): encoding/json stops at the
// first.
func TestDecodeJSON_names_every_value_of_the_wrong_type(t *testing.T) {
	p := decodeBody(t, `{"email":123,"firstName":5,"roles":"x","products":[{"productId":1},7],`+
		`"expiresAt":"2027-06-01","renewsAt":null,"totalLicenses":1.5,"manager":{"email":false}}`)
	want := []FieldProblem{
		{"email", "must be a string"},
		{"firstName", "must be a string"},
		{"roles", "must be an array"},
		{"products[0].productId", "must be a string"},
		{"products[1]", "must be an object"},
		{"expiresAt", "must be an RFC 3339 time, like 2026-05-01T08:00:00Z"},
		{"totalLicenses", "must be a whole number"},
		{"manager.email", "must be a string"},
	}
	if p == nil || p.Status != 400 || !slices.Equal(p.Errors, want) {
		t.Fatalf("%+v, want 400 naming %+v", p, want)
	}
}

// A key may come again in other objects, and a body the decoder takes
// whole is not refused for the embedded struct's fields.
func TestDecodeJSON_takes_a_key_once_per_object(t *testing.T) {
	if p := decodeBody(t, `{"email":"a@b.example","firstName":"A","manager":{"email":"c@d.example","firstName":"C"},`+
		`"products":[{"productId":"a"},{"productId":"b"}]}`); p != nil {
		t.Fatalf("refused: %+v", p)
	}
}

func TestDecodeJSON_takes_valid_UTF8_text(t *testing.T) {
	if p := decodeBody(t, `{"firstName":"Jos`+"\u00e9"+` \ud83d\ude00 \\ud800","expiresAt":"2026-05-01T08:00:00Z","totalLicenses":100}`); p != nil {
		t.Fatalf("refused: %+v", p)
	}
}

// encoding/json names an unknown field by its key alone, Go-quoted: it is
// named by its path, as it is written, as every other field is.
func TestDecodeJSON_names_an_unknown_field_by_its_path(t *testing.T) {
	for body, want := range map[string]string{
		`{"nope":1}`: "nope",
		`{"manager":{"email":"a@b.example","zz":1}}`:                         "manager.zz",
		`{"products":[{"productId":"a"},{"productId":"b","servicePlan":1}]}`: "products[1].servicePlan",
		`{"products":[{"name":1}],"name":2}`:                                 "products[0].name",
		`{"email":"a@b.example","":1}`:                                       `""`,
		`{"a\"b\\c":1}`:                                                      `a"b\c`,
	} {
		p := decodeBody(t, body)
		if p == nil {
			t.Errorf("%q: taken, want 400 naming %s", body, want)
		} else if p.Status != 400 || len(p.Errors) != 1 || p.Errors[0] != (FieldProblem{want, "unknown field"}) {
			t.Errorf("%q: %d %v, want 400 naming %s", body, p.Status, p.Errors, want)
		}
	}
}
