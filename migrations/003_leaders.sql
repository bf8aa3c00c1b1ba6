-- +goose Up
-- Which process leads each feed topic (a projector, the mailer), for
-- operators; the leadership itself is a session advisory lock.
CREATE TABLE projection_leaders (
    topic  text PRIMARY KEY,
    holder text        NOT NULL,
    since  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE projection_leaders;
