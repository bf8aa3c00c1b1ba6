package personal

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// Opening in place reads as the general way does (rewrite), for payloads
// of every shape: spaces, escapes, nesting, values of other kinds,
// duplicate names, sealed-looking strings outside the personal fields.
func TestOpenInPlace_reads_as_rewrite_does(t *testing.T) {
	pf, ok := event.Personal("user.invited")
	if !ok || pf.Subject != "userId" {
		t.Fatalf("user.invited's personal fields: %+v", pf)
	}
	key := make([]byte, 32)
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range key {
		key[i] = byte(rng.IntN(256))
	}
	a, err := aead(key)
	if err != nil {
		t.Fatal(err)
	}
	opening := func(subject uuid.UUID, field, value string) (string, error) {
		return openWith(a, subject, field, value)
	}
	general := func(data []byte) ([]byte, error) {
		return rewrite("user.invited", data, func(subject uuid.UUID) (func(field, value string) (string, error), error) {
			return func(field, value string) (string, error) {
				if !strings.HasPrefix(value, Prefix) {
					return value, nil
				}
				return opening(subject, field, value)
			}, nil
		})
	}
	for n := range 3000 {
		data := randomPayload(t, rng, key, pf)
		fast, ok, fastErr := openInPlace(pf, data, opening)
		if !ok {
			t.Fatalf("payload %d not read in place: %s", n, data)
		}
		slow, slowErr := general(data)
		if (fastErr == nil) != (slowErr == nil) {
			t.Fatalf("payload %s: in place %v, rewrite %v", data, fastErr, slowErr)
		}
		if fastErr != nil {
			continue
		}
		sameDocument(t, data, fast, slow)
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"userId"}`, `{"a":1,}`, `{"a":"1"`, `{"a":{"b":1}`, `{} x`} {
		if _, ok, _ := openInPlace(pf, []byte(bad), opening); ok {
			t.Errorf("%q read in place", bad)
		}
	}
}

// sameDocument fails unless what in place and rewrite made of data read
// as one JSON document (members in any order).
func sameDocument(t *testing.T, data, fast, slow []byte) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatalf("in place made %s of %s: %v", fast, data, err)
	}
	if err := json.Unmarshal(slow, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("payload %s:\nin place %s\nrewrite  %s", data, fast, slow)
	}
}

// randomPayload writes an object with a subject (most of the time),
// personal fields sealed or plain, and other members of every kind, in
// random order and spacing.
func randomPayload(t *testing.T, rng *rand.Rand, key []byte, pf event.PersonalFields) []byte {
	t.Helper()
	subject := uuid.New()
	sp := func() string { return []string{"", "", " ", "\n  ", "\t"}[rng.IntN(5)] }
	text := func() string {
		return []string{"ann@example.com", "Zoë \"Z\" Ærø", `back\slash`, "tab\there", "", Prefix, Prefix + "not base64!", "日本語", "</script>"}[rng.IntN(9)]
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		if rng.IntN(4) == 0 { // escape what json.Marshal would not
			return strings.ReplaceAll(string(b), "a", `\u0061`)
		}
		return string(b)
	}
	var members []string
	if rng.IntN(8) != 0 {
		members = append(members, quote(pf.Subject)+sp()+":"+sp()+quote(subject.String()))
	}
	for _, f := range pf.Fields {
		switch rng.IntN(5) {
		case 0:
			continue
		case 1:
			members = append(members, quote(f)+":"+quote(text()))
		case 2:
			members = append(members, quote(f)+":"+[]string{"null", "12", "true", `["x"]`, `{"email":"pii:v1:x"}`}[rng.IntN(5)])
		default:
			sealed, err := seal(key, subject, f, text())
			if err != nil {
				t.Fatal(err)
			}
			members = append(members, quote(f)+sp()+":"+sp()+quote(sealed))
		}
	}
	for range rng.IntN(5) {
		values := []string{quote(text()), fmt.Sprint(rng.IntN(1000)), "-1.5e3", "true", "false", "null", `[1,"]",{"a":"}"}]`,
			`{"email":` + quote(Prefix+"AAAA") + `,"n":[[]]}`, `"` + Prefix + `AAAA"`}
		members = append(members, quote(fmt.Sprintf("other%d", rng.IntN(3)))+sp()+":"+sp()+values[rng.IntN(len(values))])
	}
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	return []byte(sp() + "{" + sp() + strings.Join(members, sp()+","+sp()) + sp() + "}" + sp())
}

// The sealed text of a payload is stored and hashed: rewrite must write it
// exactly as the encoding/json version it replaced did (rewriteStd).
func TestRewrite_writes_what_encoding_json_writes(t *testing.T) {
	pf, _ := event.Personal("user.invited")
	key := make([]byte, 32)
	rng := rand.New(rand.NewPCG(7, 11))
	upper := func(uuid.UUID) (func(field, value string) (string, error), error) {
		return func(field, value string) (string, error) { return strings.ToUpper(value) + " <&> \u2028", nil }, nil
	}
	for range 3000 {
		data := randomPayload(t, rng, key, pf)
		got, gotErr := rewrite("user.invited", data, upper)
		want, wantErr := rewriteStd(pf, data, upper)
		if (gotErr == nil) != (wantErr == nil) || string(got) != string(want) {
			t.Fatalf("payload %s:\nrewrite wrote  %s (%v)\nencoding/json  %s (%v)", data, got, gotErr, want, wantErr)
		}
	}
}

// seal seals one value with a key, as a Sealer does.
func seal(key []byte, subject uuid.UUID, field, value string) (string, error) {
	a, err := aead(key)
	if err != nil {
		return "", err
	}
	return sealWith(a, subject, field, value)
}

// rewriteStd is rewrite as it was written with encoding/json.
func rewriteStd(pf event.PersonalFields, data []byte, forSubject func(uuid.UUID) (func(field, value string) (string, error), error)) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var subject uuid.UUID
	if raw, ok := doc[pf.Subject]; !ok || json.Unmarshal(raw, &subject) != nil || subject == uuid.Nil {
		return data, nil
	}
	f, err := forSubject(subject)
	if err != nil {
		return nil, err
	}
	for _, field := range pf.Fields {
		raw, ok := doc[field]
		if !ok {
			continue
		}
		var value string
		if json.Unmarshal(raw, &value) != nil || value == "" {
			continue
		}
		out, err := f(field, value)
		if err != nil {
			return nil, err
		}
		if doc[field], err = json.Marshal(out); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}

// Sealing in place seals what the general way does (rewrite), for
// payloads of every shape; only the order of the members differs.
func TestSealInPlace_seals_as_rewrite_does(t *testing.T) {
	pf, _ := event.Personal("user.invited")
	key := make([]byte, 32)
	rng := rand.New(rand.NewPCG(13, 17))
	mark := func(subject uuid.UUID, field, value string) (string, error) {
		return "sealed " + subject.String() + "/" + field + ": " + value, nil
	}
	for range 3000 {
		data := randomPayload(t, rng, key, pf)
		fast, ok, fastErr := inPlace(pf, data, notEmpty, nil, mark)
		if !ok || fastErr != nil {
			t.Fatalf("payload %s not sealed in place: %v", data, fastErr)
		}
		slow, err := rewrite("user.invited", data, func(subject uuid.UUID) (func(field, value string) (string, error), error) {
			return func(field, value string) (string, error) { return mark(subject, field, value) }, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameDocument(t, data, fast, slow)
	}
}

// A sealer asks for the subject's key once an event, leaves the members
// where the encoder wrote them, and its seal opens to what was sealed.
func TestSealer_asks_a_key_once_an_event_and_keeps_the_order(t *testing.T) {
	key := make([]byte, 32)
	subject := uuid.New()
	asked := 0
	seal := sealer(func(s uuid.UUID) ([]byte, error) {
		if s != subject {
			t.Fatalf("key of %s asked, want %s", s, subject)
		}
		asked++
		return key, nil
	})
	invited := user.Invited{UserID: subject, AccountID: uuid.New(), Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Language: "en"}
	plain, err := json.Marshal(invited)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := seal(invited.EventType(), plain)
	if err != nil || asked != 1 {
		t.Fatalf("sealed with %d key asks: %v", asked, err)
	}
	for _, text := range []string{"ann@example.com", "Ann", "Lee"} {
		if strings.Contains(string(sealed), `"`+text+`"`) {
			t.Fatalf("%q is still plain in %s", text, sealed)
		}
	}
	names := func(data []byte) []string {
		var buf [16]member
		members, ok := topLevel(data, buf[:])
		if !ok {
			t.Fatalf("not an object: %s", data)
		}
		out := make([]string, len(members))
		for i, m := range members {
			out[i] = string(m.plain)
		}
		return out
	}
	if got, want := names(sealed), names(plain); !reflect.DeepEqual(got, want) {
		t.Fatalf("members %v, want the encoder's order %v", got, want)
	}
	a, err := aead(key)
	if err != nil {
		t.Fatal(err)
	}
	opened, ok, err := openInPlace(mustPersonal(t, invited.EventType()), sealed, func(s uuid.UUID, field, value string) (string, error) {
		return openWith(a, s, field, value)
	})
	if !ok || err != nil || string(opened) != string(plain) {
		t.Fatalf("opened %s (%v), want %s", opened, err, plain)
	}
}

func mustPersonal(t *testing.T, eventType string) event.PersonalFields {
	t.Helper()
	pf, ok := event.Personal(eventType)
	if !ok {
		t.Fatalf("%s has no personal fields", eventType)
	}
	return pf
}

// A value changed in place is quoted exactly as encoding/json quotes a
// string: HTML characters, U+2028 and U+2029 escaped, invalid UTF-8
// replaced.
func TestInPlace_quotes_values_as_encoding_json_does(t *testing.T) {
	pf, _ := event.Personal("user.invited")
	rng := rand.New(rand.NewPCG(13, 17))
	pieces := []string{"a", "é", "관", "😀", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\xff", "\xe2\x80"}
	id := uuid.New()
	data := []byte(`{"userId":"` + id.String() + `","email":"x"}`)
	for range 3000 {
		var s strings.Builder
		for range rng.IntN(10) {
			s.WriteString(pieces[rng.IntN(len(pieces))])
		}
		value := s.String()
		got, ok, err := inPlace(pf, data, notEmpty, nil, func(uuid.UUID, string, string) (string, error) { return value, nil })
		quoted, _ := json.Marshal(value)
		if want := `{"userId":"` + id.String() + `","email":` + string(quoted) + `}`; !ok || err != nil || string(got) != want {
			t.Fatalf("%q: wrote %s (%v, %v), want %s", value, got, ok, err, want)
		}
	}
}

// The additional data is what every stored sealed value was sealed with:
// Prefix, the subject as uuid.UUID.String writes it, "/", the field.
// Written without allocating, it must stay those bytes, or no stored
// value would open again.
func TestAdditional_is_the_stored_form(t *testing.T) {
	for range 1000 {
		subject, field := uuid.New(), []string{"email", "firstName", "lastName"}[rand.IntN(3)]
		if got, want := string(additional(nil, subject, field)), Prefix+subject.String()+"/"+field; got != want {
			t.Fatalf("additional data %q, want %q", got, want)
		}
	}
	var buf [8]byte // too small: it grows
	if got := additional(buf[:0], uuid.Nil, "email"); string(got) != Prefix+uuid.Nil.String()+"/email" {
		t.Fatalf("from a short buffer: %q", got)
	}
}
