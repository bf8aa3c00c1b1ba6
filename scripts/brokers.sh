#!/usr/bin/env bash
# Throwaway message brokers for the integration tests, with no system
# service (Debian's packages, run from a directory of their own):
#   brokers.sh install               install nats-server and rabbitmq-server if missing
#   brokers.sh nats DIR [PORT]       start NATS with JetStream under DIR, print its URL
#   brokers.sh rabbitmq DIR [PORT]   start RabbitMQ under DIR in the background, print its URL
#                                    at once (it takes seconds to boot: see wait)
#   brokers.sh wait URL [SECONDS] [DIR]  wait until a broker URL accepts connections
#                                    (failing at once if DIR's RabbitMQ stopped)
#   brokers.sh stop DIR              stop what runs under DIR
# Both listen on 127.0.0.1 only. RabbitMQ's default guest user may log in
# from the loopback address.
set -euo pipefail

install() {
  command -v nats-server >/dev/null && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "nats-server or rabbitmq-server is missing and this is not root: apt-get install nats-server rabbitmq-server" >&2
    exit 1
  fi
  echo "installing nats-server and rabbitmq-server from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq nats-server rabbitmq-server >&2
  command -v nats-server >/dev/null && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] ||
    { echo "the broker install left no nats-server or rabbitmq-server" >&2; exit 1; }
}

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# freeport finds a port no one listens on. Callers start below 32768: the
# kernel hands out ports from 32768 up as the local ends of outgoing
# connections, and one of those makes a listener's bind fail even though
# nothing answers there.
freeport() {
  local p=${1:-24222}
  while in_use "$p"; do p=$((p + 1)); done
  echo "$p"
}

nats() {
  local dir=$1 port=${2:-}
  install
  mkdir -p "$dir/jetstream"
  dir=$(cd "$dir" && pwd)
  [ -n "$port" ] || port=$(freeport 24222)
  # Its own output goes to a file: left on our stdout, it would hold open
  # the pipe of a caller that reads the URL with $(...), which then waits.
  nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/jetstream" -l "$dir/nats.log" -P "$dir/nats.pid" >"$dir/nats.out" 2>&1 </dev/null &
  disown
  wait_port "$port" 20 || { echo "nats-server did not start: $dir/nats.log" >&2; tail -5 "$dir/nats.log" >&2; exit 1; }
  echo "nats://127.0.0.1:$port"
}

rabbitmq() {
  local dir=$1 port=${2:-}
  install
  mkdir -p "$dir/rabbitmq"
  dir=$(cd "$dir" && pwd)
  [ -n "$port" ] || port=$(freeport 25672)
  local dist; dist=$(freeport $((port + 1000)))
  local base="$dir/rabbitmq"
  echo '[].' >"$base/enabled_plugins"
  # A node of its own: its name, ports, cookie and files, so that a system
  # RabbitMQ (or another test run) on the same machine does not matter.
  (
    cd "$base"
    export HOME="$base" RABBITMQ_NODENAME="bizcenter$port@localhost" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$dist" \
      RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_PID_FILE="$base/rabbitmq.pid" \
      RABBITMQ_CONFIG_FILE="$base/none" RABBITMQ_ADVANCED_CONFIG_FILE="$base/none.config" \
      RABBITMQ_CONF_ENV_FILE="$base/none.env" ERL_EPMD_ADDRESS=127.0.0.1
    exec /usr/lib/rabbitmq/bin/rabbitmq-server >"$base/server.log" 2>&1
  ) &
  echo $! >"$dir/rabbitmq.runner"
  disown
  echo "amqp://guest:guest@127.0.0.1:$port/"
}

# wait_port waits until something listens on the port, for up to $2 seconds.
# With a runner pid file as $3 it gives up as soon as that process ended.
wait_port() {
  local port=$1 secs=${2:-60} runner=${3:-} i
  for ((i = 0; i < secs * 10; i++)); do
    in_use "$port" && return 0
    if [ -n "$runner" ] && ! kill -0 "$(cat "$runner")" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

wait_url() {
  local url=$1 secs=${2:-90} dir=${3:-} runner=""
  local port=${url##*:}
  port=${port%%/*}
  [ -n "$dir" ] && [ -f "$dir/rabbitmq.runner" ] && runner="$dir/rabbitmq.runner"
  if ! wait_port "$port" "$secs" "$runner"; then
    echo "nothing listens at $url (waited up to ${secs}s)" >&2
    [ -n "$dir" ] && tail -5 "$dir/rabbitmq/server.log" >&2 2>/dev/null
    exit 1
  fi
  # RabbitMQ opens its port before it is fully booted; a second look after
  # a moment catches a node that stopped while booting.
  sleep 0.5
  in_use "$port" || { echo "$url stopped while starting" >&2; exit 1; }
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/nats.pid" ]; then kill "$(cat "$dir/nats.pid")" 2>/dev/null || true; fi
  if [ -f "$dir/rabbitmq/rabbitmq.pid" ]; then kill "$(cat "$dir/rabbitmq/rabbitmq.pid")" 2>/dev/null || true; fi
  if [ -f "$dir/rabbitmq.runner" ]; then kill "$(cat "$dir/rabbitmq.runner")" 2>/dev/null || true; fi
  return 0
}

cmd=${1:-}; shift || true
case "$cmd" in
  install) install ;;
  nats) nats "$@" ;;
  rabbitmq) rabbitmq "$@" ;;
  wait) wait_url "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 install|nats DIR [PORT]|rabbitmq DIR [PORT]|wait URL [SECONDS]|stop DIR" >&2; exit 2 ;;
esac
