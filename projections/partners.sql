-- The partners and subscriptions read model, created in the schema of one
-- build: partner organizations and their users, the partners serving each
-- account with their visibility grants, and the subscriptions bought.

CREATE TABLE rm_partners (
    partner_id    uuid PRIMARY KEY,
    name          text        NOT NULL,
    registered_at timestamptz NOT NULL
);

-- The people who act for a partner; a removed user's row is deleted.
CREATE TABLE rm_partner_users (
    partner_id  uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    email       text        NOT NULL,
    email_lower text        NOT NULL,
    first_name  text        NOT NULL,
    last_name   text        NOT NULL,
    roles       text[]      NOT NULL,
    added_at    timestamptz NOT NULL,
    PRIMARY KEY (partner_id, user_id)
);
-- Who is a partner viewer (by the signed-in email), and GET /v1/me.
CREATE INDEX ON rm_partner_users (email_lower);
-- Erasure names a user by id alone.
CREATE INDEX ON rm_partner_users (user_id);

-- The partners serving an account now.
CREATE TABLE rm_account_partners (
    account_id    uuid        NOT NULL,
    partner_id    uuid        NOT NULL,
    associated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, partner_id)
);
CREATE INDEX ON rm_account_partners (partner_id, account_id);

-- Every channel change, in log order. event_id keeps a replay from adding
-- a row twice; the positions order the moves when a purchase that raced a
-- change is resolved through them.
CREATE TABLE rm_channel_moves (
    event_id        uuid PRIMARY KEY,
    account_id      uuid        NOT NULL,
    from_partner_id uuid        NOT NULL,
    to_partner_id   uuid        NOT NULL,
    changed_at      timestamptz NOT NULL,
    changed_by      text        NOT NULL,
    commit_pos      bigint      NOT NULL,
    prepare_pos     bigint      NOT NULL
);
CREATE INDEX ON rm_channel_moves (account_id, from_partner_id, commit_pos, prepare_pos);
-- The feed reads, for a partner's users, the changes that handed their
-- partner orders (httpapi takenOver), at each request and heartbeat.
-- Added after release, so named and IF NOT EXISTS: serve adds it to the
-- active build (AddDeclaredIndexes).
CREATE INDEX IF NOT EXISTS channel_moves_to ON rm_channel_moves (to_partner_id, account_id);

-- Visibility grants: the grantee sees what the source ordered.
CREATE TABLE rm_partner_grants (
    account_id         uuid        NOT NULL,
    grantee_partner_id uuid        NOT NULL,
    source_partner_id  uuid        NOT NULL,
    granted_at         timestamptz NOT NULL,
    granted_by         text        NOT NULL,
    PRIMARY KEY (account_id, grantee_partner_id, source_partner_id)
);

-- Subscriptions. The status is decided at query time (cancelled, else
-- expired from expires_at on, else active), so it is right with no event.
-- channel_partner_id is who answers for it now; ordering_partner_id who
-- ordered it, forever.
CREATE TABLE rm_subscriptions (
    subscription_id     uuid PRIMARY KEY,
    account_id          uuid        NOT NULL,
    product_id          text        NOT NULL,
    product_name        text        NOT NULL,
    name                text        NOT NULL,
    ordering_partner_id uuid,
    channel_partner_id  uuid,
    buyer_user_id       uuid,
    purchased_by        text        NOT NULL,
    purchased_at        timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    -- No typmod: an amount keeps the scale it was bought with ("1234.50").
    price_amount        numeric     NOT NULL,
    currency            text        NOT NULL,
    total_licenses      int         NOT NULL,
    assigned_licenses   int         NOT NULL DEFAULT 0,
    cancelled_at        timestamptz,
    cancel_reason       text,
    cancel_feedback     text,
    -- Whether subscription.expired was recorded (the sweeper's work list is
    -- the subscriptions past expiry without it).
    expiry_recorded     boolean     NOT NULL DEFAULT false
);
-- The sorts of the list routes, each ending with the id as keyset pages do.
CREATE INDEX ON rm_subscriptions (account_id, lower(name), subscription_id);
CREATE INDEX ON rm_subscriptions (account_id, lower(product_name), subscription_id);
CREATE INDEX ON rm_subscriptions (account_id, purchased_at, subscription_id);
CREATE INDEX ON rm_subscriptions (account_id, expires_at, subscription_id);
CREATE INDEX ON rm_subscriptions (account_id, price_amount, subscription_id);
-- A channel change moves one partner's subscriptions of an account; the
-- lists' counts by status and their product filter read an account's
-- rows from this index alone (a bitmap scan of 50,000 rows took 40-90 ms
-- a page, the index-only scan 6-8 ms). Added after release, so named and
-- IF NOT EXISTS: serve adds it to the active build (AddDeclaredIndexes),
-- which also keeps the unnamed (account_id, channel_partner_id) index
-- that builds before it made.
CREATE INDEX IF NOT EXISTS subscriptions_by_channel ON rm_subscriptions (account_id, channel_partner_id) INCLUDE (cancelled_at, expires_at, ordering_partner_id, product_id);
CREATE INDEX ON rm_subscriptions (expires_at) WHERE cancelled_at IS NULL AND NOT expiry_recorded;
