package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// DesignateManager makes another person the account's purchase account
// manager: an existing user of the account (who becomes an Account
// Administrator if not one yet, and gets a new invitation if theirs
// expired), or a new one invited as Account Administrator. A partner
// serving the account may, as may operators. The previous manager keeps
// their roles: the customer's administrators decide about them.
type DesignateManager struct {
	By        Actor
	AccountID uuid.UUID
	Manager   user.Profile // roles are decided here
}

// ChangeManagerEmail gives the purchase account manager, who has not
// signed in yet, another email and a new invitation to it; the old link
// stops working. A partner serving the account may, as may operators.
type ChangeManagerEmail struct {
	By        Actor
	AccountID uuid.UUID
	Email     string
}

// ManagerChanged is the answer of both.
type ManagerChanged struct {
	ManagerUserID uuid.UUID
	Position      eventstore.Position
}

// DesignateManagerHandler handles DesignateManager. Run again with its
// idempotency key, it answers as an earlier run that recorded the
// designation did, before it checks the caller's rights; one that
// stopped before is finished as a new run would, rights first.
func DesignateManagerHandler(d Deps) Handler[DesignateManager, ManagerChanged] {
	return HandlerFunc[DesignateManager, ManagerChanged](func(ctx context.Context, c DesignateManager) (ManagerChanged, error) {
		// This look keeps its own read of the account (no keep): the
		// work's reads of it must come later. A partner's right to act
		// is read in the account's turn (mayActOnManager), and the
		// designation is decided on the account as read after the
		// user's changes, its handover naming that read's revision
		// (designateWithUsersEmail).
		l, err := d.earlierRun(ctx, account.Stream(c.AccountID))
		if err != nil {
			return ManagerChanged{}, err
		}
		if e, ok := mine[account.ManagerDesignated](l); ok {
			return ManagerChanged{ManagerUserID: e.ManagerUserID, Position: l.answered()}, nil
		}
		return asManagerPartner(ctx, d, c.AccountID, c.By, func(ctx context.Context, acting *partner.Partner) (ManagerChanged, error) {
			return d.designateManager(ctx, c, acting)
		})
	})
}

func (d Deps) designateManager(ctx context.Context, c DesignateManager, acting *partner.Partner) (ManagerChanged, error) {
	c.Manager.Roles = []string{string(user.AccountAdministrator)}
	if err := user.ValidateProfile(c.Manager); err != nil {
		return ManagerChanged{}, err
	}
	email := user.NormalizeEmail(c.Manager.Email)
	if err := notOwnStaff(acting, email); err != nil {
		return ManagerChanged{}, err
	}
	by := origin{actor: c.By.name(), at: d.now()}
	managerID, err := retried(ctx, func() (uuid.UUID, error) {
		existing, claim, err := d.userByEmail(ctx, c.AccountID, email)
		if err != nil || existing == nil {
			return uuid.Nil, err
		}
		ul := claim.ownerAt
		var changes []event.Event
		if !slices.Contains(existing.Roles(), user.AccountAdministrator) {
			changed, err := existing.ChangeRoles(roleNames(append(existing.Roles(), user.AccountAdministrator)), by.actor, by.at)
			if err != nil {
				return uuid.Nil, err
			}
			changes = append(changes, *changed)
		}
		if existing.Status(by.at) == user.Expired {
			resent, err := existing.Resend(d.newInvitation(ctx, by))
			if err != nil {
				return uuid.Nil, err
			}
			changes = append(changes, resent)
		}
		if len(changes) > 0 && ul.mine == nil {
			if _, err := save(ctx, d, user.Stream(existing.ID()), ul, by, changes...); err != nil {
				return uuid.Nil, err
			}
		}
		return existing.ID(), nil
	})
	if err != nil {
		return ManagerChanged{}, err
	}
	if managerID == uuid.Nil {
		invited, _, err := d.inviteAs(ctx, c.AccountID, d.newID(ctx, "manager"), c.Manager, by)
		if err != nil {
			return ManagerChanged{}, err
		}
		managerID = invited.UserID
	}
	return d.designateWithUsersEmail(ctx, c.AccountID, managerID, false, by)
}

// ChangeManagerEmailHandler handles ChangeManagerEmail. It claims the new
// email for the user, then changes the user; a conflict retries both.
// Two streams change without a transaction across them, so the claim
// records the revision of the user it was decided on: until the user's
// stream moves past it the claim is in flight and nobody else may take
// the email (for a minute: the next claim fences off a stalled one);
// after, the email is the user's if the user has it and free to take
// over if not (the run lost the user to another change). The former
// email is not released: the user no longer has it, so it is free
// already (see holding). The account and the user change without a
// transaction across them either: a designation of another manager
// marks the former manager's stream before it records the account, so a
// change that read the account before it refuses (notHandedOver) or
// conflicts, rather than changing the email of a user who is no longer
// the manager. Run again with its idempotency key, a change an earlier
// run made to the user is answered before the caller's rights are
// checked, the account's record of it finished (changedBefore).
func ChangeManagerEmailHandler(d Deps) Handler[ChangeManagerEmail, ManagerChanged] {
	return HandlerFunc[ChangeManagerEmail, ManagerChanged](func(ctx context.Context, c ChangeManagerEmail) (ManagerChanged, error) {
		return serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (ManagerChanged, error) {
			by := origin{actor: c.By.name(), at: d.now()}
			if owner, pos, done, err := d.changedBefore(ctx, c.AccountID, user.NormalizeEmail(c.Email)); err != nil || done {
				if err != nil {
					return ManagerChanged{}, err
				}
				return d.recordChange(ctx, c.AccountID, owner, pos, by)
			}
			return actOnManager(ctx, d, c.AccountID, c.By, func(ctx context.Context, acting *partner.Partner) (ManagerChanged, error) {
				return d.changeManagerEmail(ctx, c, acting, by)
			})
		})
	})
}

func (d Deps) changeManagerEmail(ctx context.Context, c ChangeManagerEmail, acting *partner.Partner, by origin) (ManagerChanged, error) {
	email := user.NormalizeEmail(c.Email)
	if err := notOwnStaff(acting, email); err != nil {
		return ManagerChanged{}, err
	}
	var managerID uuid.UUID
	changed, err := retried(ctx, func() (eventstore.Position, error) {
		a, al, err := d.loadAccount(ctx, c.AccountID)
		if err != nil {
			return eventstore.Position{}, err
		}
		current, _ := a.Manager()
		if managerID != uuid.Nil && current != managerID {
			// A try before this one read another manager.
			return eventstore.Position{}, errManagerReplaced(c.AccountID)
		}
		managerID = current
		var u user.User
		ul, err := load(ctx, d, user.Stream(managerID), &u)
		if _, done := mine[user.EmailChanged](ul); err != nil || done {
			// done: an earlier run with this idempotency key changed
			// the user; running it again must not change them back.
			return ul.answered(), err
		}
		if err := d.notHandedOver(ctx, &u, al, by); err != nil {
			return eventstore.Position{}, err
		}
		changes, err := u.ChangeEmail(c.Email, d.newInvitation(ctx, by))
		if err != nil {
			return eventstore.Position{}, err
		}
		if err := d.adoptEmail(ctx, c.AccountID, email, managerID, ul.revision, changes != nil, by); err != nil {
			return eventstore.Position{}, err
		}
		if changes == nil {
			return ul.position, nil
		}
		res, err := save(ctx, d, user.Stream(managerID), ul, by, changes...)
		return res.Position, err
	})
	if err != nil {
		return ManagerChanged{}, err
	}
	return d.recordChange(ctx, c.AccountID, managerID, changed, by)
}

// recordChange records on the account the email a change gave the
// manager, unless another manager was designated since (see
// designateWithUsersEmail), and answers a position at least that of the
// change (changed).
func (d Deps) recordChange(ctx context.Context, accountID, managerID uuid.UUID, changed eventstore.Position, by origin) (ManagerChanged, error) {
	res, err := d.designateWithUsersEmail(ctx, accountID, managerID, true, by)
	if res.Position.Less(changed) {
		res.Position = changed
	}
	return res, err
}

// changedBefore finds, for a change run again with its idempotency key,
// the user an earlier run gave the email to, by the email's claim (the
// account may name another manager since: the earlier run answered done
// all the same), and the position of its change.
func (d Deps) changedBefore(ctx context.Context, accountID uuid.UUID, email string) (uuid.UUID, eventstore.Position, bool, error) {
	if _, keyed := keyedID(ctx, "run again"); !keyed {
		return uuid.Nil, eventstore.Position{}, false, nil
	}
	_, c, err := d.userByEmail(ctx, accountID, email)
	if err != nil || c.Owner() == uuid.Nil {
		return uuid.Nil, eventstore.Position{}, false, err
	}
	if _, done := mine[user.EmailChanged](c.ownerAt); !done {
		return uuid.Nil, eventstore.Position{}, false, nil
	}
	return c.Owner(), c.ownerAt.answered(), true, nil
}

// adoptEmail claims an email of the account for a user about to take it
// (changing), or who has it (making sure the claim is theirs), tagged
// with the revision of the user's stream the command read. A user taking it claims it
// even when the claim is theirs already (an email they had before, or an
// earlier run's claim), for the claim to carry the revision it was
// decided on.
func (d Deps) adoptEmail(ctx context.Context, accountID uuid.UUID, email string, owner uuid.UUID, ownerRevision *uint64, changing bool, by origin) error {
	_, c, err := d.userByEmail(ctx, accountID, email)
	if err != nil {
		return err
	}
	return d.claim(ctx, c, owner, ownerRevision, changing, by)
}

// designateWithUsersEmail records managerID as the account's manager
// with the email the user has, read after the account: of two commands
// changing the manager's email, the one recording the account last may
// have lost the user to the other, and must record the email the user
// kept. With stillManager (a change of the manager's email, done to the
// user already), a user who is no longer the manager is left off the
// account: the designation that replaced them came after the change
// (startHandover and notHandedOver see to that), and the change stands.
// Replacing another manager, it first writes the handover to the former
// manager's stream (see startHandover).
func (d Deps) designateWithUsersEmail(ctx context.Context, accountID, managerID uuid.UUID, stillManager bool, by origin) (ManagerChanged, error) {
	pos, err := d.changeAccountRead(ctx, accountID, Actor{Subject: by.actor}, nil, func(a *account.Account, at loaded, actor string) ([]event.Event, error) {
		current, _ := a.Manager()
		if stillManager && current != managerID {
			return nil, nil
		}
		var u user.User
		if _, err := load(ctx, d, user.Stream(managerID), &u); err != nil {
			return nil, err
		}
		var events []event.Event
		if e := a.DesignateManager(managerID, user.NormalizeEmail(u.Email()), actor); e != nil {
			if current != managerID && current != uuid.Nil {
				if err := d.startHandover(ctx, accountID, *at.revision, current, managerID, by); err != nil {
					return nil, err
				}
			}
			events = append(events, *e)
		}
		// A designation makes the manager an Account Administrator: the
		// account counts them among its administrators in the same
		// append, as after every invitation or role change giving the
		// role, or the last one could demote itself (and another could
		// not).
		if g := a.GrantAdministrator(managerID, actor); g != nil && !stillManager {
			events = append(events, *g)
		}
		return events, nil
	})
	return ManagerChanged{ManagerUserID: managerID, Position: pos}, err
}

// startHandover writes to the stream of the manager a designation is
// about to replace that it began, on the account as read at
// accountRevision: a change of the manager's email that read the account
// before the designation either sees it there (notHandedOver) or
// conflicts with it, instead of changing the email of a user who is no
// longer the manager.
func (d Deps) startHandover(ctx context.Context, accountID uuid.UUID, accountRevision uint64, former, successor uuid.UUID, by origin) error {
	var u user.User
	l, err := loadWith(ctx, d, user.Stream(former), &u, nil) // nothing personal is needed
	if err != nil || !u.Exists() {
		return err
	}
	// An earlier run with this idempotency key that lost its answer
	// wrote this very handover: once is enough. One on another revision
	// of the account is not this one (the account moved since), and is
	// written again, or a change of email would not see it.
	if h, ours := mine[user.ManagerHandoverStarted](l); ours && h.AccountRevision == accountRevision && h.SuccessorID == successor {
		return nil
	}
	_, err = save(ctx, d, user.Stream(former), l, by, user.ManagerHandoverStarted{
		UserID: former, AccountID: accountID, AccountRevision: accountRevision, SuccessorID: successor, StartedAt: d.now()})
	return err
}

// notHandedOver refuses to act on u as the manager of the account read
// at al when a designation of another manager began on the account as it
// was then or later: it is under way (its account event may land any
// moment), or it conflicted. A handover started over stallAge ago has
// stalled: it is fenced off with account.manager_handover_lapsed at the
// revision read, so that the designation's record, should it still come,
// conflicts rather than landing between this change's append to the
// user and its own record of the account. The fence is not the command's
// own work: it goes without the idempotency key.
func (d Deps) notHandedOver(ctx context.Context, u *user.User, al loaded, by origin) error {
	h, ok := u.Handover()
	if !ok || h.AccountRevision < *al.revision {
		return nil
	}
	if d.now().Sub(h.StartedAt) < stallAge {
		return fmt.Errorf("account %s: another manager is being designated: %w", h.AccountID, domain.ErrConflict)
	}
	_, err := save(unkeyed(ctx), d, account.Stream(h.AccountID), al, by, account.ManagerHandoverLapsed{
		AccountID: h.AccountID, ManagerUserID: h.UserID, SuccessorID: h.SuccessorID, StartedAt: h.StartedAt, LapsedAt: d.now()})
	return err
}

func errManagerReplaced(accountID uuid.UUID) error {
	return fmt.Errorf("account %s: another manager was designated meanwhile: %w", accountID, domain.ErrConflict)
}

// mayActOnManager: operators (nil partner), and users of a partner serving
// the account whose roles allow managing the customer's first
// administrator (that partner).
func (d Deps) mayActOnManager(ctx context.Context, accountID uuid.UUID, a Actor) (*partner.Partner, error) {
	if a.Operator {
		return nil, nil
	}
	acc, _, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var forbidden error // a partner's 403, which comes first
	for _, id := range acc.Partners() {
		p, _, err := d.partnerActing(ctx, id, a, partner.ManageCustomerAdmin)
		if err == nil {
			return p, nil
		}
		forbidden = partnerRefusal(err, forbidden)
	}
	if forbidden != nil {
		return nil, forbidden
	}
	return nil, d.customerManagerRefusal(ctx, accountID, a)
}

// customerManagerRefusal is what anyone but a partner's user learns when
// they act on the account's manager: an active user of the account sees
// it, and is refused for what they are (403), whatever their roles, an
// Account Administrator's included (seed 001 gives the manager to the
// partner); anyone else gets the account's 404.
func (d Deps) customerManagerRefusal(ctx context.Context, accountID uuid.UUID, a Actor) error {
	if _, err := d.rolesIn(ctx, accountID, a); err != nil {
		return err
	}
	return fmt.Errorf("the purchase account manager is designated, and their email changed, by a partner serving the account or an operator: %w",
		domain.ErrForbidden)
}

// asManagerPartner runs f for an actor who may act on the account's
// purchase account manager: an operator (acting nil), or a user of a
// partner serving the account whose roles allow it (acting: that
// partner, read again sharing its turn, PartnerSerial, which f keeps to
// its end). The user's removal or new roles wait for f, or come first and
// refuse it as mayActOnManager refuses anyone else. All of it runs in the
// account's turn (AccountSerial), as a change of channel partner does: a
// partner checked a moment before it stopped serving the account could
// otherwise act on the manager after the change. The turn also orders the
// manager commands with each other (a partner's resend checks, under it,
// that its user is still the manager) and with the commands that check
// the account's roles under it (a designation may make someone an
// Account Administrator).
func asManagerPartner[T any](ctx context.Context, d Deps, accountID uuid.UUID, a Actor, f func(ctx context.Context, acting *partner.Partner) (T, error)) (T, error) {
	return serialized(ctx, d.AccountSerial, accountID, func(ctx context.Context) (T, error) {
		return actOnManager(ctx, d, accountID, a, f)
	})
}

// actOnManager is asManagerPartner for a caller already in the account's
// turn.
func actOnManager[T any](ctx context.Context, d Deps, accountID uuid.UUID, a Actor, f func(ctx context.Context, acting *partner.Partner) (T, error)) (T, error) {
	var none T
	acting, err := d.mayActOnManager(ctx, accountID, a)
	switch {
	case err != nil:
		return none, err
	case acting == nil:
		return f(ctx, nil)
	}
	return asPartnerUser(ctx, d, acting.ID(), a, func(ctx context.Context) (T, error) {
		p, _, err := d.partnerActing(ctx, acting.ID(), a, partner.ManageCustomerAdmin)
		if errors.Is(err, domain.ErrNotFound) {
			return none, accountNotFound(accountID)
		}
		if err != nil {
			return none, err
		}
		return f(ctx, p)
	})
}

// notOwnStaff refuses a partner making one of its own people the
// customer's Account Administrator: that is the customer's call.
func notOwnStaff(acting *partner.Partner, email string) error {
	if acting == nil {
		return nil
	}
	if _, staff := acting.MemberByEmail(email); staff {
		return &domain.RuleError{Code: "partner-staff-as-manager",
			Detail: "a partner cannot make one of its own users the customer's purchase account manager"}
	}
	return nil
}
