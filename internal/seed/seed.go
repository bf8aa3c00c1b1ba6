// Package seed appends synthetic history straight to an event store, for
// tests and benchmarks that need many events fast.
package seed

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// Sent is when every seeded invitation was sent: long ago, so each is
// expired and the mailer sends nothing for them.
var Sent = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Invitations appends, for each of n users of one account, an invitation
// followed by resends (perUser events in all, one append per user), from 8
// writers. It returns the position of the last event appended.
func Invitations(ctx context.Context, store eventstore.Store, n, perUser int) (eventstore.Position, error) {
	return invitations(ctx, store, n, perUser, nil)
}

// Keep is told the key each user's personal fields were sealed with; it
// must store it (personal_keys) for the events to open.
type Keep func(subject uuid.UUID, key []byte) error

// SealedInvitations is Invitations with each user's email and names
// sealed, as commands store them, with a key minted for the user and
// handed to keep.
func SealedInvitations(ctx context.Context, store eventstore.Store, n, perUser int, keep Keep) (eventstore.Position, error) {
	return invitations(ctx, store, n, perUser, keep)
}

func invitations(ctx context.Context, store eventstore.Store, n, perUser int, keep Keep) (eventstore.Position, error) {
	account := uuid.New()
	var mu sync.Mutex
	var last eventstore.Position
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				res, err := appendUser(ctx, store, account, i, perUser, keep)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if last.Less(res.Position) {
					last = res.Position
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return last, <-errs
}

func appendUser(ctx context.Context, store eventstore.Store, account uuid.UUID, i, perUser int, keep Keep) (eventstore.AppendResult, error) {
	id := uuid.New()
	var seal event.Transform
	if keep != nil {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // never fails
		if err := keep(id, key); err != nil {
			return eventstore.AppendResult{}, err
		}
		seal = personal.SealWith(key)
	}
	expires := Sent.Add(user.InvitationValidity)
	evs := []event.Event{user.Invited{
		UserID: id, AccountID: account, Email: fmt.Sprintf("u%d@seed.example", i), FirstName: "Seed", LastName: fmt.Sprint(i),
		Language: "en", Country: "US", Roles: []user.Role{user.AccountViewer},
		InvitationID: uuid.New(), TokenHash: "seeded", InvitedBy: "seed", SentAt: Sent, ExpiresAt: expires,
	}}
	for len(evs) < perUser {
		evs = append(evs, user.InvitationResent{UserID: id, AccountID: account, InvitationID: uuid.New(), TokenHash: "seeded", ResentBy: "seed", SentAt: Sent, ExpiresAt: expires})
	}
	data := make([]eventstore.EventData, len(evs))
	prev := ""
	for k, e := range evs {
		eid := uuid.New()
		payload, meta, hash, err := event.EncodeAtWith(e, user.Stream(id), uint64(k),
			event.Metadata{EventID: eid, Actor: "seed", CorrelationID: "seed", OccurredAt: Sent, PreviousHash: prev}, seal)
		prev = hash
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		data[k] = eventstore.EventData{ID: eid, Type: e.EventType(), Data: payload, Metadata: meta}
	}
	return store.Append(ctx, user.Stream(id), eventstore.NoStream(), data)
}
