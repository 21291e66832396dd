#!/usr/bin/env bash
# Makes sure the servers the integration tests use are up (PostgreSQL, MariaDB, NATS
# with JetStream, Redis), starting any that is down with this machine's start commands, and
# waits until each accepts connections. Prints the env vars the tests read.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 1
  done
  echo "services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

ensure() {
  local name=$1 port=$2
  shift 2
  if ! port_open "$port"; then
    echo "services: starting $name" >&2
    "$@" >/dev/null 2>&1 || true
  fi
  wait_port "$name" "$port"
}

status=0
ensure PostgreSQL 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || status=1
ensure MariaDB 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || status=1
ensure NATS 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || status=1
ensure Redis 6379 start-stop-daemon --start --oknodo --background --exec /usr/bin/redis-server -- --bind 127.0.0.1 --port 6379 --save '' || status=1
exit $status
