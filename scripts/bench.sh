#!/usr/bin/env bash
# make bench: a throwaway cluster with fsync on (as in production), then the
# bench runner, which prints each figure beside a raw PostgreSQL baseline
# measured in the same run, and the EventStoreDB adapter's figures over the
# in-process protocol fake. Flags of cmd/bench go in BENCH_ARGS or after the
# script's name, e.g. BENCH_ARGS=-quick make bench (go run ./cmd/bench -h).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/postgres.sh install
dir=$(mktemp -d /tmp/bizcenter-bench-XXXXXX)
cleanup() { scripts/postgres.sh stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
url=$(scripts/postgres.sh start "$dir" "$(scripts/postgres.sh freeport 27432)")
echo "bench cluster (fsync on): $url"
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
go run ./cmd/bench -cluster "$url" ${BENCH_ARGS:-} "$@"
echo
echo "EventStoreDB over the in-process protocol fake (the real client, not a real server):"
TEST_DATABASE_URL=$url go test ./service/ -run '^$' -bench 'OverFake' -benchtime 1x 2>/dev/null | grep -E '^Benchmark'
go test ./eventstore/esdb/ -run '^$' -bench 'OverFake' -benchtime 3s | grep -E '^Benchmark'
echo
echo "Mail to an SMTP relay over STARTTLS on this machine, one message after another:"
go test ./mailer/ -run '^$' -bench 'SMTPSender' -benchtime 2s | grep -E '^Benchmark'
echo "make bench took ${SECONDS}s"
