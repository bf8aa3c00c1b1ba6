-- The user directory read model, created in the schema of one build.

-- Accounts as dashboards see them.
CREATE TABLE rm_accounts (
    account_id              uuid PRIMARY KEY,
    name                    text        NOT NULL,
    agreement_number        text        NOT NULL,
    purchase_account_number text        NOT NULL,
    domains                 text[]      NOT NULL DEFAULT '{}',
    registered_at           timestamptz NOT NULL
);

-- Users. status holds 'pending' or 'active'; "expired" is decided at query
-- time from invitation_expires_at, so it is right with no event, or from
-- invitation_expiry_recorded once the event is in (it holds on a clock
-- behind the sweeper's).
CREATE TABLE rm_users (
    user_id               uuid PRIMARY KEY,
    account_id            uuid        NOT NULL,
    email                 text        NOT NULL,
    email_lower           text        NOT NULL,
    first_name            text        NOT NULL,
    last_name             text        NOT NULL,
    name_sort             text        NOT NULL,
    language              text        NOT NULL,
    country               text        NOT NULL,
    roles                 text[]      NOT NULL,
    status                text        NOT NULL,
    invited_at            timestamptz NOT NULL,
    invitation_expires_at timestamptz NOT NULL,
    -- How many invitations were sent. Incremented, not upserted: only the
    -- checkpoint keeps a replay from counting twice.
    invitation_count      int         NOT NULL DEFAULT 1,
    -- Whether user.invitation_expired was recorded for the current
    -- invitation (the sweeper's work list is the pending users past expiry
    -- without it; with it, the user is expired whatever the clock says).
    invitation_expiry_recorded boolean NOT NULL DEFAULT false,
    activated_at          timestamptz
);
CREATE INDEX ON rm_users (account_id, email_lower, user_id);
CREATE INDEX ON rm_users (account_id, name_sort, user_id);
CREATE INDEX ON rm_users (account_id, invited_at, user_id);
CREATE INDEX ON rm_users (account_id, status, invitation_expires_at);
-- New entries wait in the index's pending list, and the insert that finds
-- it past its limit merges all of it: with the default 4 MB, one live
-- invitation in a few thousand took 50-100 ms, and every read waiting
-- for the projector (?after) waited with it. 128 kB makes those merges
-- small; without the list (fastupdate off) each insert costs more.
CREATE INDEX ON rm_users USING gin (email_lower public.gin_trgm_ops) WITH (gin_pending_list_limit = 128);
-- GET /v1/me: the accounts where a signed-in email is an active user; and
-- sign-in activation: the pending users of an email.
CREATE INDEX ON rm_users (email_lower, status);
CREATE INDEX ON rm_users (invitation_expires_at) WHERE status = 'pending' AND NOT invitation_expiry_recorded;

-- A user's history as the detail page shows it: invited, resent, expired,
-- accepted, roles changed, ...; one entry an event, in log order, an
-- invitation or resend with the invitation it sent. One row a user, not
-- one an event: while catching up, a batch's events of a user are one
-- write rather than one row each (the history rows were most of what a
-- catch-up wrote), and the detail page reads it with the user's row.
-- Appends to entries, like invitation_count, rely on the checkpoint alone
-- to happen once. Text, the JSON array as the projector wrote it: nothing
-- queries inside it, and an append splices texts (users_history.go). As
-- jsonb, parsing it into a tree was half of what a history cost while
-- catching up; as json, each append checked the whole history again (a
-- user changed after their batch cost 20 µs, more as the history grew).
-- Readers cast it to json.
CREATE TABLE rm_user_history (
    user_id uuid PRIMARY KEY,
    entries text NOT NULL
);

-- How many users an account has in each status, the pending ones by the
-- hour (UTC) their invitation expires in, so that a dashboard's counts add
-- up a few rows instead of counting the account's users (218 ms at a
-- million). "Expired" is still decided when read: the pending users of an
-- hour that has ended are expired; of the hour now running, the reader
-- counts the expired ones in rm_users. A pending user whose expiry is
-- recorded is expired whatever the reader's clock says (docs/events.md,
-- user.invitation_expired), so counts in the hour '-infinity'. Triggers keep it, a statement at a
-- time (a multi-row insert is one upsert), so no write of the projector
-- needs the row it changes.
CREATE TABLE rm_user_counts (
    account_id   uuid        NOT NULL,
    status       text        NOT NULL,
    -- The hour a pending user's invitation expires in; '-infinity' once
    -- its expiry is recorded; 'infinity' for active users.
    expires_hour timestamptz NOT NULL,
    n            bigint      NOT NULL,
    PRIMARY KEY (account_id, status, expires_hour)
);

-- rm_user_counts_change adds, for each key of rm_user_counts, the rows a
-- statement brought (new_rows) less those it took (old_rows), and drops
-- the keys left at zero: a user invited and resent in one batch is one
-- insert, and the table must end the same as when the resend is a second
-- statement (`projections verify` compares builds row by row). Its
-- search_path is the build's schema, as when it was created.
CREATE FUNCTION rm_user_counts_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO rm_user_counts AS c (account_id, status, expires_hour, n)
        SELECT account_id, status, rm_user_counts_hour(status, invitation_expires_at, invitation_expiry_recorded), count(*)
          FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (account_id, status, expires_hour) DO UPDATE SET n = c.n + EXCLUDED.n;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE rm_user_counts c SET n = c.n - d.n
          FROM (SELECT account_id, status, rm_user_counts_hour(status, invitation_expires_at, invitation_expiry_recorded) AS h, count(*) AS n
                  FROM old_rows GROUP BY 1, 2, 3) d
         WHERE (c.account_id, c.status, c.expires_hour) = (d.account_id, d.status, d.h);
    ELSE
        -- Most updates change neither status nor expiry (nor its record):
        -- nothing to add.
        INSERT INTO rm_user_counts AS c (account_id, status, expires_hour, n)
        SELECT account_id, status, h, sum(d)
          FROM (SELECT account_id, status, rm_user_counts_hour(status, invitation_expires_at, invitation_expiry_recorded) AS h, 1 AS d FROM new_rows
                UNION ALL
                SELECT account_id, status, rm_user_counts_hour(status, invitation_expires_at, invitation_expiry_recorded), -1 FROM old_rows) x
         GROUP BY 1, 2, 3 HAVING sum(d) <> 0
        ON CONFLICT (account_id, status, expires_hour) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    DELETE FROM rm_user_counts c
     USING (SELECT DISTINCT account_id, status, rm_user_counts_hour(status, invitation_expires_at, invitation_expiry_recorded) AS h FROM old_rows) o
     WHERE c.n = 0 AND (c.account_id, c.status, c.expires_hour) = (o.account_id, o.status, o.h);
    RETURN NULL;
END $$;

-- The hour in UTC, by AT TIME ZONE and date_trunc of a timestamp ('-infinity'
-- once the expiry is recorded, an hour that has always ended; 'infinity'
-- for active users): both
-- immutable, so that PostgreSQL inlines the function into the trigger's
-- queries. date_trunc with a zone is only stable, and an immutable
-- function around it was called once a row (2 µs each, twice a row for
-- an update).
CREATE FUNCTION rm_user_counts_hour(status text, expires_at timestamptz, recorded boolean) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status <> 'pending' THEN 'infinity'
                WHEN recorded THEN '-infinity'
                ELSE date_trunc('hour', expires_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' END
$$;

CREATE TRIGGER rm_user_counts_insert AFTER INSERT ON rm_users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_user_counts_change();
CREATE TRIGGER rm_user_counts_update AFTER UPDATE ON rm_users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_user_counts_change();
CREATE TRIGGER rm_user_counts_delete AFTER DELETE ON rm_users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rm_user_counts_change();
