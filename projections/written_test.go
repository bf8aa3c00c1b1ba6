package projections

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
)

// everyProjector is every projector of this package; a new one belongs
// here too, so that passOver's rule is held against it.
var everyProjector = []Projector{Users{}, Audit{}, Partners{}, Billing{}, Licenses{}}

// passOver is only sound if a projector writes for an event or not by its
// type alone. Random events of every registered type, with random content
// (empty and filled fields alike), must all agree with the zero-value
// probe, for every projector.
func TestWrittenTypes_agree_with_random_events_of_every_type_for_every_projector(t *testing.T) {
	types := event.Types()
	slices.Sort(types)
	rng := rand.New(rand.NewPCG(11, 13))
	for _, p := range everyProjector {
		written := writtenTypes(p)
		for _, typ := range types {
			// Random strings, then each of the domain's closed values in
			// every string field at once.
			strs := []func() string{randomString(rng)}
			for _, v := range enumStrings {
				strs = append(strs, func() string { return v })
			}
			for i := range 40 * len(strs) {
				e := randomEvent(t, rng, typ, strs[i/40])
				env := event.Envelope{Metadata: randomMetadata(rng), Stream: "s", Revision: uint64(i), Position: fmt.Sprintf("%d-%d", i+1, i+1), Event: e}
				if got := applyWrites(p, env); got != written[typ] {
					t.Errorf("%s, %s %+v: Apply writes %v, the probe says %v", p.Name(), typ, e, got, written[typ])
					break
				}
			}
		}
	}
}

// Every projector but the audit trail writes for some types and not for
// others: otherwise the test above would hold of a probe that always
// answered the same.
func TestWrittenTypes_probe_is_not_all_or_nothing(t *testing.T) {
	for _, p := range everyProjector {
		if p.Name() == (Audit{}).Name() {
			continue
		}
		w := writtenTypes(p)
		var yes, no int
		for _, written := range w {
			if written {
				yes++
			} else {
				no++
			}
		}
		if yes == 0 || no == 0 {
			t.Errorf("%s writes for %d types and not for %d", p.Name(), yes, no)
		}
	}
}

func applyWrites(p Projector, env event.Envelope) (writes bool) {
	defer func() {
		if r := recover(); r != nil {
			writes = true // as probeWrites counts a panic
		}
	}()
	q := &pgx.Batch{}
	p.Apply(q, env)
	return q.Len() > 0
}

func randomMetadata(rng *rand.Rand) event.Metadata {
	var m event.Metadata
	fill(rng, reflect.ValueOf(&m).Elem(), 0, randomString(rng))
	return m
}

// randomEvent is an event of a registered type with every exported field
// random: about a third of them left zero.
func randomEvent(t *testing.T, rng *rand.Rand, typ string, str func() string) event.Event {
	t.Helper()
	zero, ok := event.Zero(typ)
	if !ok {
		t.Fatalf("%s is not registered", typ)
	}
	v := reflect.New(reflect.TypeOf(zero)).Elem()
	fill(rng, v, 0, str)
	return v.Interface().(event.Event)
}

// enumStrings are the values of the domain's closed sets of strings
// (roles, statuses, kinds, outcomes...): an Apply that wrote only for
// some of them would go unnoticed, random strings never being one.
var enumStrings = func() []string {
	var out []string
	add := func(vs ...string) { out = append(out, vs...) }
	for _, r := range user.AllRoles {
		add(string(r))
	}
	for _, r := range partner.AllRoles {
		add(string(r))
	}
	for _, k := range benefit.Kinds {
		add(string(k))
	}
	for _, r := range subscription.Reasons {
		add(string(r))
	}
	add(string(user.Pending), string(user.Active), string(user.Expired),
		string(subscription.StatusActive), string(subscription.StatusCancelled), string(subscription.StatusExpired),
		string(partner.ManageUsers), string(partner.Order), string(partner.ManageCustomerAdmin), string(partner.View),
		string(partner.AssignBenefits), string(partner.ManageGoToMarket),
		string(licensing.Assigned), string(licensing.AlreadyHeld), string(licensing.Revoked), string(licensing.NotHeld),
		string(licensing.Refused), string(benefit.Usage), string(benefit.License),
		reservation.KindUserEmail, reservation.KindAgreement, reservation.KindDomain)
	return out
}()

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// randomString makes strings like emails, which no closed set holds.
func randomString(rng *rand.Rand) func() string {
	return func() string { return fmt.Sprintf("s%d@x.example", rng.IntN(1000)) }
}

// fill sets v's exported fields at random, strings made by str.
func fill(rng *rand.Rand, v reflect.Value, depth int, str func() string) {
	if !v.CanSet() || depth > 4 || rng.IntN(3) == 0 {
		return
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(1e6)) * time.Second)))
		return
	case v.Type() == rawType:
		v.SetBytes([]byte(`{"k":1}`))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(str())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64N(100) - 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64N(100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(rng.Float64() * 100)
	case reflect.Array: // uuid.UUID among others
		for i := range v.Len() {
			fill(rng, v.Index(i), depth+1, str)
		}
	case reflect.Slice:
		n := rng.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), depth+1, str)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rng, k, depth+1, str)
			fill(rng, e, depth+1, str)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), depth+1, str)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(rng, v.Field(i), depth+1, str)
		}
	}
}
