-- The billing read model, created in the schema of one build: billing
-- profiles with their cards (token, brand, last four digits and expiry:
-- nothing more of a card is ever known here), invoice lines derived from
-- the subscription events, and the partners' benefit packages.

CREATE TABLE rm_billing_profiles (
    profile_id uuid PRIMARY KEY,
    account_id uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text        NOT NULL
);
CREATE INDEX ON rm_billing_profiles (account_id, created_at, profile_id);

-- The cards a profile pays with now (a removed or replaced card's row is
-- deleted).
CREATE TABLE rm_payment_methods (
    payment_method_id uuid PRIMARY KEY,
    profile_id        uuid        NOT NULL,
    account_id        uuid        NOT NULL,
    token             text        NOT NULL,
    brand             text        NOT NULL,
    last4             text        NOT NULL,
    expiry_month      int         NOT NULL,
    expiry_year       int         NOT NULL,
    added_at          timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX ON rm_payment_methods (profile_id, added_at);

-- What invoicing needs of each subscription: its price, term and licenses.
CREATE TABLE rm_billing_terms (
    subscription_id     uuid PRIMARY KEY,
    account_id          uuid        NOT NULL,
    name                text        NOT NULL,
    product_name        text        NOT NULL,
    ordering_partner_id uuid,
    purchased_at        timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    price_amount        numeric     NOT NULL,
    currency            text        NOT NULL,
    base_total          int         NOT NULL,
    total               int         NOT NULL,
    -- The exact sum of its invoice lines (billing_line).
    exact_num           numeric     NOT NULL DEFAULT 0
);

-- One line per purchase, change of total and cancellation (line_id is the
-- event's id). An invoice is the lines of one account, currency and UTC
-- calendar month; invoice_id names it.
CREATE TABLE rm_invoice_lines (
    line_id             uuid PRIMARY KEY,
    invoice_id          uuid        NOT NULL,
    account_id          uuid        NOT NULL,
    period_start        date        NOT NULL,
    currency            text        NOT NULL,
    kind                text        NOT NULL,
    subscription_id     uuid        NOT NULL,
    subscription_name   text        NOT NULL,
    product_name        text        NOT NULL,
    ordering_partner_id uuid,
    quantity            int         NOT NULL,
    amount              numeric     NOT NULL,
    service_from        timestamptz NOT NULL,
    service_to          timestamptz NOT NULL,
    occurred_at         timestamptz NOT NULL,
    commit_pos          bigint      NOT NULL,
    prepare_pos         bigint      NOT NULL
);
-- An account's invoices of a range: the lines in the order invoicesSQL
-- groups them, amount included, so that the sums stream from an
-- index-only scan. Without it the cached generic plan sorted every line
-- of the range on disk (ten years of 100,000 lines: 70-190 ms, 15-17 ms
-- so). Added after release, so named and IF NOT EXISTS: serve adds it to
-- the active build (AddDeclaredIndexes), which also keeps the unnamed
-- (account_id, period_start, invoice_id) index that builds before it made.
CREATE INDEX IF NOT EXISTS invoice_lines_by_period ON rm_invoice_lines (account_id, period_start, invoice_id, currency) INCLUDE (amount);
CREATE INDEX ON rm_invoice_lines (invoice_id, occurred_at, commit_pos, prepare_pos);

-- The minor unit of a currency (domain/billing.MinorDigits).
CREATE FUNCTION billing_minor_digits(currency text) RETURNS int
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN currency IN ('CLP', 'ISK', 'JPY', 'KRW', 'VND') THEN 0 ELSE 2 END $$;

-- The invoicing rule of domain/billing/invoice.go (billing.Line): a
-- change of delta licenses is worth delta × price × remaining / (base ×
-- term), durations in microseconds. Each subscription keeps the exact sum
-- of its lines (exact_num, over den = base × term × 10^4, the same for all
-- its lines); a line from billing_running_from() on is what it adds to
-- that sum rounded, one before it its own worth rounded, half away from
-- zero to the currency's minor unit either way. All on integers: the
-- price has at most 4 decimals, so price × 10^4 is whole.
CREATE FUNCTION billing_running_from() RETURNS timestamptz
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT timestamptz '2027-01-01 00:00:00+00' $$;

-- num / den rounded half away from zero (den > 0).
CREATE FUNCTION billing_round(num numeric, den numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT sign(num) * div(2 * abs(num) + den, 2 * den) $$;

CREATE FUNCTION billing_line(delta int, price numeric, base int, remaining_us numeric, term_us numeric, currency text,
        before_num numeric, at timestamptz, OUT amount numeric, OUT after_num numeric)
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT round(CASE WHEN at >= billing_running_from()
                      THEN billing_round(before_num + f.num, f.den) - billing_round(before_num, f.den)
                      ELSE billing_round(f.num, f.den) END / power(10::numeric, d.digits), d.digits),
           before_num + f.num
      FROM (SELECT billing_minor_digits(currency) AS digits) d,
      LATERAL (SELECT delta::numeric * trunc(price * 10000) * least(greatest(remaining_us, 0), term_us) * power(10::numeric, d.digits) AS num,
                      base::numeric * term_us * 10000 AS den) f
    $$;

-- Benefit packages of partner organizations, with their marketing contact.
CREATE TABLE rm_benefit_packages (
    package_id              uuid PRIMARY KEY,
    partner_id              uuid        NOT NULL,
    name                    text        NOT NULL,
    price_amount            numeric     NOT NULL,
    currency                text        NOT NULL,
    buyer_user_id           uuid,
    purchased_by            text        NOT NULL,
    purchased_at            timestamptz NOT NULL,
    cancelled_at            timestamptz,
    refunded                boolean,
    refund_amount           numeric,
    cancel_reason           text,
    contact_user_id         uuid,
    contact_alternate_email text,
    contact_phone           text,
    contact_language        text
);
CREATE INDEX ON rm_benefit_packages (partner_id, purchased_at, package_id);

-- The benefits of the packages. The status is decided at query time
-- (cancelled with its package, else expired from expires_at on, else
-- active once activated_at is set, else inactive).
CREATE TABLE rm_benefits (
    benefit_id          uuid PRIMARY KEY,
    package_id          uuid        NOT NULL,
    partner_id          uuid        NOT NULL,
    ordinal             int         NOT NULL,
    kind                text        NOT NULL,
    name                text        NOT NULL,
    product_id          text,
    cloud_model         text,
    quantity            int         NOT NULL,
    term_days           int,
    activated_at        timestamptz,
    expires_at          timestamptz,
    company_assigned_at timestamptz
);
CREATE INDEX ON rm_benefits (partner_id, kind, package_id, ordinal);
-- A partner's benefits package by package (benefitsFrom): the cached
-- generic plan, guessing a few packages, joins each to its benefits, which
-- the index above finds only by reading all the partner's rows (20,000
-- benefits: 0.9 s). Added after release, so named and IF NOT EXISTS:
-- serve adds it to the active build (AddDeclaredIndexes).
CREATE INDEX IF NOT EXISTS benefits_by_package ON rm_benefits (partner_id, package_id);

-- Who holds a Visual Studio subscription or a technical benefit.
CREATE TABLE rm_benefit_assignees (
    benefit_id      uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    partner_id      uuid        NOT NULL,
    alternate_email text,
    assigned_at     timestamptz NOT NULL,
    PRIMARY KEY (benefit_id, user_id)
);
CREATE INDEX ON rm_benefit_assignees (user_id);

-- Every product key retrieval: who, when, for which language and OS.
CREATE TABLE rm_benefit_key_retrievals (
    event_id     uuid PRIMARY KEY,
    benefit_id   uuid        NOT NULL,
    partner_id   uuid        NOT NULL,
    user_id      uuid,
    retrieved_by text        NOT NULL,
    language     text,
    os           text,
    retrieved_at timestamptz NOT NULL
);
CREATE INDEX ON rm_benefit_key_retrievals (benefit_id, retrieved_at);
