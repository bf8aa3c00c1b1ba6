package event_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	_ "github.com/bizcenter/bizcenter/domain/account"
	_ "github.com/bizcenter/bizcenter/domain/benefit"
	_ "github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/event"
	_ "github.com/bizcenter/bizcenter/domain/partner"
	_ "github.com/bizcenter/bizcenter/domain/reservation"
	_ "github.com/bizcenter/bizcenter/domain/subscription"
	_ "github.com/bizcenter/bizcenter/domain/user"
)

// Encode writes, and Decode reads, every registered event, every field
// set, exactly as encoding/json does: the package uses a faster one, and
// neither the stored text nor what it means may depend on which.
func TestEncode_and_Decode_do_what_encoding_json_does_for_every_event(t *testing.T) {
	types := event.Types()
	slices.Sort(types)
	if len(types) < 40 {
		t.Fatalf("only %d event types registered; the imports above should bring them all", len(types))
	}
	for _, typ := range types {
		zero, _ := event.Zero(typ)
		full := reflect.New(reflect.TypeOf(zero)).Elem()
		fill(full, 0)
		data, err := json.Marshal(full.Interface())
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var wrote event.Metadata
		fill(reflect.ValueOf(&wrote).Elem(), 0)
		wrote.SchemaVersion = event.Version(typ)
		metaText, _ := json.Marshal(wrote)
		gotData, gotMetaText, err := event.Encode(full.Interface().(event.Event), wrote)
		if err != nil {
			t.Fatalf("%s: Encode: %v", typ, err)
		}
		if !bytes.Equal(gotData, data) || !bytes.Equal(gotMetaText, metaText) {
			t.Errorf("%s: Encode wrote\n%s\n%s\nencoding/json writes\n%s\n%s", typ, gotData, gotMetaText, data, metaText)
		}
		want := reflect.New(full.Type())
		if err := json.Unmarshal(data, want.Interface()); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		meta := fmt.Appendf(nil, `{"eventId":"0190a4c2-7c1e-7b1a-9a55-3f1d2e8a0c01","schemaVersion":%d,"actor":"op \"1\" \u00e9","occurredAt":"2026-05-01T08:00:00.123456789+09:00","hash":"ab"}`, event.Version(typ))
		got, gotMeta, err := event.Decode(typ, data, meta)
		if err != nil {
			t.Fatalf("%s: Decode: %v", typ, err)
		}
		if !reflect.DeepEqual(got, want.Elem().Interface()) {
			t.Errorf("%s: Decode read\n%#v\nencoding/json read\n%#v\nfrom %s", typ, got, want.Elem().Interface(), data)
		}
		var wantMeta event.Metadata
		if err := json.Unmarshal(meta, &wantMeta); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotMeta, wantMeta) {
			t.Errorf("%s: metadata read as %#v, encoding/json read %#v", typ, gotMeta, wantMeta)
		}
	}
}

// Text that encoding/json reads in its own way: escapes, invalid UTF-8,
// keys in another case, a repeated key, null, and members no field takes.
func TestDecode_reads_awkward_json_as_encoding_json_does(t *testing.T) {
	for _, data := range []string{
		`{"userId":"0190a4c2-7c1e-7b1a-9a55-3f1d2e8a0c03","email":"a\u00e9\ud83d\ude00\"\\\/b\n","firstName":"` + "\xff\xfe" + `민아"}`,
		`{"USERID":"0190a4c2-7c1e-7b1a-9a55-3f1d2e8a0c03","FirstName":"x","firstName":"y"}`,
		`{"roles":null,"lastName":null,"sentAt":null,"unknown":{"a":[1,2,{"b":null}]},"language":"ko"}`,
		`{"roles":["account_viewer","account_viewer"],"country":"KR" , "expiresAt":"2026-06-30T08:00:00Z"}`,
	} {
		zero, _ := event.Zero("user.invited")
		want := reflect.New(reflect.TypeOf(zero))
		wantErr := json.Unmarshal([]byte(data), want.Interface())
		got, _, err := event.Decode("user.invited", []byte(data), []byte(`{}`))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: Decode error %v, encoding/json error %v", data, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want.Elem().Interface()) {
			t.Errorf("%s: Decode read\n%#v\nencoding/json read\n%#v", data, got, want.Elem().Interface())
		}
	}
}

// fill sets every field reachable from v to a value that is not zero and
// that encoding/json must escape or keep precise.
func fill(v reflect.Value, depth int) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("", 9*3600))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(`Mina "박" <b>&amp;` + "\u2028\t" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-12345)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(201)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1234.5625)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), depth)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), depth)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(key, depth)
		fill(val, depth)
		v.SetMapIndex(key, val)
	case reflect.Pointer:
		if depth < 3 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth)
			}
		}
	}
}
