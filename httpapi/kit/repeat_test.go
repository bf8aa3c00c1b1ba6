package kit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// mayRepeat is a look before repeatedMember: it may say yes for nothing,
// but never no when repeatedMember finds a member given twice, whatever
// the body decodes into.
func TestMayRepeat_says_yes_whenever_a_member_is_given_twice(t *testing.T) {
	keys := []string{`"email"`, `"EMAIL"`, `"firstName"`, `"roles"`, `"manager"`, `"\u0065mail"`, `"x\"y"`, `""`}
	rng := rand.New(rand.NewPCG(7, 11))
	var value func(depth int) string
	value = func(depth int) string {
		switch n := rng.IntN(5); {
		case depth > 2 || n < 2:
			return `"v"`
		case n == 2:
			items := make([]string, rng.IntN(4))
			for i := range items {
				items[i] = value(depth + 1)
			}
			return "[" + strings.Join(items, " , ") + "]"
		default:
			members := make([]string, rng.IntN(5))
			for i := range members {
				members[i] = keys[rng.IntN(len(keys))] + ": " + value(depth+1)
			}
			return "{" + strings.Join(members, ",") + "}"
		}
	}
	into := []reflect.Type{reflect.TypeOf(&testBody{}), reflect.TypeOf(map[string]any{})}
	found := 0
	for range 5000 {
		doc := []byte(value(0))
		if !json.Valid(doc) {
			t.Fatalf("the test made invalid JSON: %s", doc)
		}
		for _, typ := range into {
			if _, repeated := repeatedMember(doc, typ); repeated {
				found++
				if !mayRepeat(doc) {
					t.Fatalf("%s (into %v): repeatedMember finds a member given twice, mayRepeat says no", doc, typ)
				}
			}
		}
	}
	if found < 500 {
		t.Fatalf("only %d bodies gave a member twice: the test is too weak", found)
	}
}

func TestMayRepeat_says_no_for_distinct_keys(t *testing.T) {
	for _, doc := range []string{
		`{}`, `[]`, `"x"`, `{"email":"a@b.example","roles":["a","a"],"manager":{"email":"c"}}`,
		`{"a":{"b":1},"b":{"a":[{"a":1},{"a":2}]}}`, `{"email":"{\"email\":1,\"email\":2}"}`,
	} {
		if mayRepeat([]byte(doc)) {
			t.Errorf("%s: mayRepeat says yes", doc)
		}
	}
}

// An object with more keys than mayRepeat compares goes to
// repeatedMember, which still names the repeated one.
func TestDecodeJSON_finds_a_repeat_among_many_keys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range maxKeysCompared + 8 {
		fmt.Fprintf(&b, `"k%d":1,`, i)
	}
	b.WriteString(`"k3":2}`)
	doc := []byte(b.String())
	if !mayRepeat(doc) {
		t.Fatal("mayRepeat says no")
	}
	if field, found := repeatedMember(doc, reflect.TypeOf(map[string]int{})); !found || field != "k3" {
		t.Fatalf("repeatedMember: %q %v, want k3", field, found)
	}
}
