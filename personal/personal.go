// Package personal seals the personal fields of events (emails, names; see
// event.RegisterPersonal) with a key per person, kept in PostgreSQL
// (personal_keys), so that a person's data can be forgotten without
// rewriting the log: erasing the key leaves the events, and the hash chain
// over their stored bytes, intact, while the fields read as "[erased]".
//
// A sealed field is the JSON string "pii:v1:" + base64(nonce || AES-GCM
// ciphertext), the additional data binding it to its subject and field
// name. Fields stored before sealing existed (plain strings) are read as
// they are.
package personal

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	// Sealing is a rewrite of every payload with personal fields, on each
	// command that invites or changes a person; this package does it as
	// encoding/json does (TestRewrite_writes_what_encoding_json_writes) in
	// a third of the time.
	fastjson "github.com/segmentio/encoding/json"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/internal/uuidtext"
)

// Prefix marks a sealed field.
const Prefix = "pii:v1:"

// Erased is what a field sealed with an erased (or absent) key reads as.
const Erased = user.Erased

// DB is what the key store needs: a pool or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Keys is the key store.
type Keys struct {
	DB DB
	// Recent, when set, is told each key sealed with and each erasure.
	Recent *Recent
	// FlushedByAppends says that what is sealed with a key is appended
	// to an event store in the same PostgreSQL cluster (the embedded
	// one): a new key's insert then commits without waiting for the WAL
	// to reach the disk. The append's own commit waits for it, and so
	// makes the key durable first: the key's commit was written to the
	// WAL before, and the WAL is flushed in order. Lost in a crash
	// before any append, a key had sealed nothing stored. It saves
	// InviteUser one of its two waits for the disk. With EventStoreDB
	// nothing flushes the cluster before the events are kept: leave it
	// false. And only with DB a pool: in a caller's transaction it would
	// leave that whole transaction's commit unflushed.
	FlushedByAppends bool
}

// ErrErased: the subject's key was erased, nothing can be sealed for them.
var ErrErased = errors.New("personal data erased")

// sealing returns the subject's key, creating it on first use.
func (k Keys) sealing(ctx context.Context, subject uuid.UUID) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// One round trip: the fresh key when it went in, else the stored one
	// (nil when erased). A key that a concurrent caller committed after
	// this statement began is not visible to it: then no row comes back,
	// and a second look finds it.
	sql := sealingKey
	if k.FlushedByAppends {
		sql = sealingKeyUnflushed
	}
	var key []byte
	err := k.DB.QueryRow(ctx, sql, subject, fresh).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		key, err = k.opening(ctx, subject)
	} else if err != nil {
		err = fmt.Errorf("personal key: %w", err)
	}
	if err == nil && key == nil {
		return nil, fmt.Errorf("subject %s: %w", subject, ErrErased)
	}
	if err == nil {
		k.Recent.remember(subject, key)
	}
	return key, err
}

// sealingKey inserts a fresh key ($2) for a subject ($1) unless one is
// stored, and answers the key stored.
const sealingKey = `
	WITH fresh AS (
		INSERT INTO personal_keys (subject_id, key) VALUES ($1, $2)
		ON CONFLICT (subject_id) DO NOTHING
		RETURNING key)
	SELECT key FROM fresh
	UNION ALL
	SELECT key FROM personal_keys WHERE subject_id = $1 AND NOT EXISTS (SELECT FROM fresh)`

// sealingKeyUnflushed is sealingKey committing without waiting for the
// WAL's flush (Keys.FlushedByAppends): the insert's one row comes from a
// select that turns synchronous_commit off for the statement's own
// transaction.
var sealingKeyUnflushed = strings.Replace(sealingKey, "VALUES ($1, $2)",
	"SELECT $1, $2 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed", 1)

// opening returns the subject's key, nil when it is erased or absent.
func (k Keys) opening(ctx context.Context, subject uuid.UUID) ([]byte, error) {
	var key []byte
	err := k.DB.QueryRow(ctx, `SELECT key FROM personal_keys WHERE subject_id = $1`, subject).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("personal key: %w", err)
	}
	return key, nil
}

// Erasure is the first erasure's who and why, and when an earlier one
// destroyed the key (Earlier; zero when this one did).
type Erasure struct {
	By, Reason string
	Earlier    time.Time
}

// Erase destroys the subject's key for good, recording who erased it,
// why, and the stream of its event (for the sweeper to finish it there,
// should it stop half way). Erasing an erased (or never sealed) subject
// keeps the first erasure's who, why, time and stream, and returns them.
func (k Keys) Erase(ctx context.Context, subject uuid.UUID, stream, by, reason string) (Erasure, error) {
	k.Recent.forget(subject)
	var e Erasure
	var earlier *time.Time
	err := k.DB.QueryRow(ctx, `
		WITH erased AS (
			INSERT INTO personal_keys (subject_id, key, erased_at, erased_by, erased_reason, erasure_stream)
			VALUES ($1, NULL, now(), $2, $3, $4)
			ON CONFLICT (subject_id) DO UPDATE
			   SET key = NULL, erased_at = now(), erased_by = EXCLUDED.erased_by, erased_reason = EXCLUDED.erased_reason,
			       erasure_stream = EXCLUDED.erasure_stream
			 WHERE personal_keys.erased_at IS NULL
			RETURNING erased_by, erased_reason)
		SELECT erased_by, erased_reason, NULL::timestamptz FROM erased
		UNION ALL
		SELECT coalesce(erased_by, $2), coalesce(erased_reason, $3), erased_at FROM personal_keys
		 WHERE subject_id = $1 AND NOT EXISTS (SELECT FROM erased)`, subject, by, reason, stream).Scan(&e.By, &e.Reason, &earlier)
	if errors.Is(err, pgx.ErrNoRows) {
		// Erased by a concurrent caller whose row this statement cannot
		// see: it is recorded, under that caller's name.
		return Erasure{By: by, Reason: reason}, nil
	}
	if err != nil {
		return Erasure{}, fmt.Errorf("erase personal key: %w", err)
	}
	if earlier != nil {
		e.Earlier = earlier.UTC()
	}
	return e, nil
}

// Recorded marks a subject's erasure as written to the log, so that the
// sweeper's look for erasures that stopped half way passes it over.
func (k Keys) Recorded(ctx context.Context, subject uuid.UUID) error {
	if _, err := k.DB.Exec(ctx, `UPDATE personal_keys SET erasure_recorded = true WHERE subject_id = $1 AND erased_at IS NOT NULL`, subject); err != nil {
		return fmt.Errorf("mark erasure recorded: %w", err)
	}
	return nil
}

// Sealer returns the transform that seals an event's personal fields.
func (k Keys) Sealer(ctx context.Context) event.Transform {
	return sealer(func(subject uuid.UUID) ([]byte, error) { return k.sealing(ctx, subject) })
}

// SealWith is a Sealer that seals with the given key, for whoever mints
// keys themselves and stores them in personal_keys (seeds of synthetic
// history); commands use Sealer, which keeps one key a person.
func SealWith(key []byte) event.Transform {
	return sealer(func(uuid.UUID) ([]byte, error) { return key, nil })
}

// sealer seals each non-empty personal string field with the subject's
// key from keyOf (see eventCipher). Fields are sealed where they stand
// (inPlace): an invitation's map rewrite was a tenth of the command's CPU.
// The payload's members stay in the order the encoder wrote them (rewrite
// sorts them); a decoder reads either alike, and the hash is taken of what
// is stored. The key is asked for whenever the payload has a subject, as
// rewrite did, even with nothing to seal.
func sealer(keyOf func(subject uuid.UUID) ([]byte, error)) event.Transform {
	return func(eventType string, data []byte) ([]byte, error) {
		pf, ok := event.Personal(eventType)
		if !ok {
			return data, nil
		}
		c := &eventCipher{keyOf: keyOf}
		prepare := func(subject uuid.UUID) error {
			_, err := c.of(subject)
			return err
		}
		seal := func(subject uuid.UUID, field, value string) (string, error) {
			return sealWith(c.a, subject, field, value)
		}
		out, ok, err := inPlace(pf, data, notEmpty, prepare, seal)
		if ok {
			return out, err
		}
		return rewrite(eventType, data, func(subject uuid.UUID) (func(field, value string) (string, error), error) {
			if err := prepare(subject); err != nil {
				return nil, err
			}
			return func(field, value string) (string, error) { return seal(subject, field, value) }, nil
		})
	}
}

// eventCipher is the cipher of one event's subject, made from their key
// the first time it is needed: an event's personal fields are one
// person's, and the cipher (AES key schedule, GCM tables) cost more than
// anything else in sealing or opening them, made once a field. Make one
// for each event.
type eventCipher struct {
	keyOf func(subject uuid.UUID) ([]byte, error)
	a     cipher.AEAD // nil when the subject's key is gone
	made  bool
}

// of is the subject's cipher, nil when their key is gone.
func (c *eventCipher) of(subject uuid.UUID) (cipher.AEAD, error) {
	if c.made {
		return c.a, nil
	}
	key, err := c.keyOf(subject)
	if err == nil && key != nil {
		c.a, err = aead(key)
	}
	c.made = err == nil
	return c.a, err
}

func notEmpty(value string) bool { return value != "" }

// Opener returns the transform that opens an event's personal fields. It
// keeps the keys it fetched, so use one for a batch of events, not for
// good: an erasure after it fetched a key is not seen.
func (k Keys) Opener(ctx context.Context) event.Transform {
	return k.opener(ctx, map[uuid.UUID][]byte{})
}

// OpenerFor is an Opener that has fetched, in one query, the keys of the
// given subjects (see SealedSubject): a batch of events costs one round
// trip, not one per person.
func (k Keys) OpenerFor(ctx context.Context, subjects []uuid.UUID) (event.Transform, error) {
	cache := make(map[uuid.UUID][]byte, len(subjects))
	if len(subjects) > 0 {
		rows, err := k.DB.Query(ctx, keysOf, subjects)
		if err != nil {
			return nil, fmt.Errorf("personal keys: %w", err)
		}
		if err := fill(cache, rows, subjects); err != nil {
			return nil, err
		}
	}
	return k.opener(ctx, cache), nil
}

// QueueOpenerFor is OpenerFor with its query queued on q, to share a
// round trip: once q has run, opener opens with the keys it read.
func (k Keys) QueueOpenerFor(q *pgx.Batch, subjects []uuid.UUID) (opener func(context.Context) event.Transform) {
	cache := make(map[uuid.UUID][]byte, len(subjects))
	if len(subjects) > 0 {
		q.Queue(keysOf, subjects).Query(func(rows pgx.Rows) error { return fill(cache, rows, subjects) })
	}
	return func(ctx context.Context) event.Transform { return k.opener(ctx, cache) }
}

const keysOf = `SELECT subject_id, key FROM personal_keys WHERE subject_id = ANY($1)`

// fill puts the keys rows holds in cache, and nil (never sealed: nothing
// to open) for the subjects that have none.
func fill(cache map[uuid.UUID][]byte, rows pgx.Rows, subjects []uuid.UUID) error {
	var id uuid.UUID
	var key []byte
	_, err := pgx.ForEachRow(rows, []any{&id, &key}, func() error {
		cache[id] = key
		return nil
	})
	if err != nil {
		return fmt.Errorf("personal keys: %w", err)
	}
	for _, id := range subjects {
		if _, ok := cache[id]; !ok {
			cache[id] = nil
		}
	}
	return nil
}

// SealedSubject is the subject of an event whose data holds a sealed
// field; false for any other. It only tells which keys to fetch together
// (opening reads the subject again, exactly, and fetches a key it lacks),
// so it reads the top level of the object for the one field (topLevel),
// or, should that fail, the one field into a struct made for it, never
// every field into a map: catching up, it ran for every sealed event.
// (Struct fields match keys without regard to case; our encoder writes
// one key.)
func SealedSubject(eventType string, data []byte) (uuid.UUID, bool) {
	pf, ok := event.Personal(eventType)
	if !ok || !bytes.Contains(data, []byte(Prefix)) {
		return uuid.Nil, false
	}
	var buf [16]member
	if members, ok := topLevel(data, buf[:]); ok {
		subject := subjectIn(data, members, pf.Subject)
		return subject, subject != uuid.Nil
	}
	doc := reflect.New(subjectDoc(pf.Subject))
	if json.Unmarshal(data, doc.Interface()) != nil {
		return uuid.Nil, false
	}
	subject := doc.Elem().Field(0).Interface().(uuid.UUID)
	return subject, subject != uuid.Nil
}

// subjectDocs are the struct types subjectDoc made, by field name.
var subjectDocs sync.Map

// subjectDoc is struct{ Subject uuid.UUID `json:"<field>"` }.
func subjectDoc(field string) reflect.Type {
	if t, ok := subjectDocs.Load(field); ok {
		return t.(reflect.Type)
	}
	t := reflect.StructOf([]reflect.StructField{{Name: "Subject", Type: reflect.TypeFor[uuid.UUID](),
		Tag: reflect.StructTag(`json:"` + field + `"`)}})
	subjectDocs.Store(field, t)
	return t
}

// opener opens with the keys in cache, fetching the others one by one. A
// key is fetched only for a value that is sealed, and data with no sealed
// value is returned as it is, unparsed.
func (k Keys) opener(ctx context.Context, cache map[uuid.UUID][]byte) event.Transform {
	var mu sync.Mutex
	keyOf := func(subject uuid.UUID) ([]byte, error) {
		mu.Lock()
		key, ok := cache[subject]
		mu.Unlock()
		if ok {
			return key, nil
		}
		key, err := k.opening(ctx, subject)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		cache[subject] = key
		mu.Unlock()
		return key, nil
	}
	return func(eventType string, data []byte) ([]byte, error) {
		if !bytes.Contains(data, []byte(Prefix)) {
			return data, nil
		}
		pf, ok := event.Personal(eventType)
		if !ok {
			return data, nil
		}
		c := &eventCipher{keyOf: keyOf}
		open := func(subject uuid.UUID, field, value string) (string, error) {
			a, err := c.of(subject)
			switch {
			case err != nil:
				return "", err
			case a == nil:
				return Erased, nil
			}
			return openWith(a, subject, field, value)
		}
		if out, ok, err := openInPlace(pf, data, open); ok {
			if err != nil {
				return nil, fmt.Errorf("%s.%w", eventType, err)
			}
			return out, nil
		}
		return rewrite(eventType, data, func(subject uuid.UUID) (func(field, value string) (string, error), error) {
			return func(field, value string) (string, error) {
				if !isSealed(value) {
					return value, nil
				}
				return open(subject, field, value)
			}, nil
		})
	}
}

// rewrite replaces each personal string field of the payload with what f
// makes of it; a payload without a subject is returned as it is.
func rewrite(eventType string, data []byte, forSubject func(uuid.UUID) (func(field, value string) (string, error), error)) ([]byte, error) {
	pf, ok := event.Personal(eventType)
	if !ok {
		return data, nil
	}
	var doc map[string]json.RawMessage
	if err := fastjson.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("personal fields of %s: %w", eventType, err)
	}
	var subject uuid.UUID
	if raw, ok := doc[pf.Subject]; !ok || fastjson.Unmarshal(raw, &subject) != nil || subject == uuid.Nil {
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
		if fastjson.Unmarshal(raw, &value) != nil || value == "" {
			continue
		}
		out, err := f(field, value)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", eventType, field, err)
		}
		if doc[field], err = fastjson.Marshal(out); err != nil {
			return nil, err
		}
	}
	return fastjson.Marshal(doc)
}

func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additional binds a sealed value to its subject and field, so it cannot
// be moved to another person or field: Prefix, the subject, "/", the
// field, appended to dst (a buffer of the caller's, so that sealing and
// opening, once a field of every invitation, allocate none for it).
func additional(dst []byte, subject uuid.UUID, field string) []byte {
	dst = uuidtext.Append(append(dst, Prefix...), subject)
	return append(append(dst, '/'), field...)
}

// sealWith seals a value of the subject's field with the cipher of their
// key, under a fresh nonce.
func sealWith(a cipher.AEAD, subject uuid.UUID, field, value string) (string, error) {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(value)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	var aad [64]byte
	sealed := a.Seal(nonce, nonce, []byte(value), additional(aad[:0], subject, field))
	return Prefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// openWith opens a sealed value of the subject's field with the cipher of
// their key. The value is decoded into a buffer of its own size, and
// opened where it lies.
func openWith(a cipher.AEAD, subject uuid.UUID, field, value string) (string, error) {
	text := strings.TrimPrefix(value, Prefix)
	var buf [192]byte
	raw, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(text))
	if err != nil || len(raw) < a.NonceSize() {
		return "", fmt.Errorf("malformed sealed field %s", field)
	}
	var aad [64]byte
	sealed := raw[a.NonceSize():]
	plain, err := a.Open(sealed[:0], raw[:a.NonceSize()], sealed, additional(aad[:0], subject, field))
	if err != nil {
		return "", fmt.Errorf("sealed field %s does not open: %w", field, err)
	}
	return string(plain), nil
}
