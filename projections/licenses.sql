-- The licenses read model, created in the schema of one build: who holds
-- a license of which subscription, with the service plans switched on.
-- Counts per subscription live in rm_subscriptions.assigned_licenses
-- (partners.sql); whether a subscription counts (active) is decided there
-- at query time.

CREATE TABLE rm_license_assignments (
    subscription_id uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    account_id      uuid        NOT NULL,
    product_id      text        NOT NULL,
    service_plans   text[]      NOT NULL,
    assigned_at     timestamptz NOT NULL,
    assigned_by     text        NOT NULL,
    PRIMARY KEY (subscription_id, user_id)
);
-- A user's licenses, and a selection's holders.
CREATE INDEX ON rm_license_assignments (account_id, user_id);
-- A subscription's assignments, a page at a time.
CREATE INDEX ON rm_license_assignments (subscription_id, assigned_at, user_id);
