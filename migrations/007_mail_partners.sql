-- +goose Up
-- The mailer's memory of partners (mailer/partners.go), fed from the
-- partner-<id> streams: names, for the text of its emails, and users with
-- their roles, for who a visibility grant is announced to. Like the other
-- mail_ tables it is not a read model and is never rebuilt.
CREATE TABLE mail_partner_names (
    partner_id uuid PRIMARY KEY,
    name       text NOT NULL
);
CREATE TABLE mail_partner_users (
    partner_id uuid   NOT NULL,
    user_id    uuid   NOT NULL,
    email      text   NOT NULL,
    first_name text   NOT NULL,
    last_name  text   NOT NULL,
    roles      text[] NOT NULL,
    PRIMARY KEY (partner_id, user_id)
);

-- +goose Down
DROP TABLE mail_partner_users, mail_partner_names;
