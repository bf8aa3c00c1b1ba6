#!/usr/bin/env bash
# Local PostgreSQL clusters for development and tests, with no system service:
#   postgres.sh install            install PostgreSQL from Debian if missing
#   postgres.sh start DIR [PORT] [fast]   init DIR if new, start, print the URL
#   postgres.sh stop DIR
#   postgres.sh freeport [FROM]    print a free TCP port on 127.0.0.1
# "fast" turns fsync off: for throwaway test clusters only.
set -euo pipefail

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

install() {
  if [ -n "$(bindir)" ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed and this is not root: apt-get install postgresql" >&2
    exit 1
  fi
  echo "installing PostgreSQL from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  [ -n "$(bindir)" ] || { echo "PostgreSQL install left no initdb" >&2; exit 1; }
}

# as_owner runs a command as the cluster's owner: postgres refuses root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

freeport() {
  local p=${1:-25432} # below the ephemeral ports: see brokers.sh
  while in_use "$p"; do p=$((p + 1)); done
  echo "$p"
}

start() {
  local dir=$1 port=${2:-} mode=${3:-}
  install
  local bin; bin=$(bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if [ -f "$dir/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port=$(sed -n 4p "$dir/postmaster.pid")
  else
    [ -n "$port" ] || port=$(freeport)
    local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB"
    [ "$mode" = fast ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if ! as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null; then
      # pg_ctl says only "examine the log output": show it (a port in use
      # reads "could not bind ... Address already in use").
      echo "postgres.sh: PostgreSQL did not start on port $port; the end of $dir/server.log:" >&2
      tail -n 5 "$dir/server.log" >&2
      return 1
    fi
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

stop() {
  local dir=$1
  local bin; bin=$(bindir) || return 0
  [ -f "$dir/postmaster.pid" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
}

cmd=${1:-}; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  freeport) freeport "$@" ;;
  *) echo "usage: $0 install|start DIR [PORT] [fast]|stop DIR|freeport [FROM]" >&2; exit 2 ;;
esac
