-- +goose Up
-- Builds replaced before this release and never dropped: a rebuild
-- killed or interrupted between its switch and its drop of the build
-- before, or whose drop failed, left that build's schema with nothing
-- naming it, so no later build dropped it. The switch now lists the
-- build it replaces in projection_builds (purpose 'replaced'), and the
-- next build of the projector drops every listed build nobody holds.
-- This lists those left before. A build is created and listed in one
-- transaction, so a schema named as builds are that is neither active
-- nor listed is one of them.
INSERT INTO projection_builds (schema_name, name, version, purpose)
SELECT n.nspname, m[1], m[2]::int, 'replaced'
  FROM pg_namespace n, regexp_match(n.nspname, '^rm_([a-z_]+)_v([0-9]+)_[0-9a-f]{6}$') AS m
 WHERE m IS NOT NULL
   AND NOT EXISTS (SELECT FROM projection_versions v WHERE v.active_schema = n.nspname)
   AND NOT EXISTS (SELECT FROM projection_builds b WHERE b.schema_name = n.nspname);

-- +goose Down
-- The listed builds are dropped by the next build of their projector
-- whichever release runs it: nothing to undo.
SELECT 1;
