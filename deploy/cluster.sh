#!/usr/bin/env bash
# A skureel cluster on one machine, the same shape as on many: PostgreSQL (Debian's package) for Prefect and for
# the shared ledger, one `prefect server start` on it, N process workers, the deployments of deploy/prefect.yaml
# and the zombie-detection automation.
#
#   deploy/cluster.sh up [--workers N] [--limit L]    start everything (idempotent: what runs is left running)
#   deploy/cluster.sh status                          the server, PostgreSQL and each worker with its process id
#   deploy/cluster.sh down                            stop exactly what `up` started
#   deploy/cluster.sh env                             print the variables a client needs (eval "$(... env)")
#
# State lives in $SKUREEL_CLUSTER_DIR (default out/cluster). Ports: SKUREEL_CLUSTER_API_PORT (4300),
# SKUREEL_CLUSTER_PG_PORT (55432). Redis is not needed: one server process runs the API and the services together
# (Redis becomes necessary only when API replicas and services are split, see deploy/README.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mkdir -p "${SKUREEL_CLUSTER_DIR:-$ROOT/out/cluster}" && cd "${SKUREEL_CLUSTER_DIR:-$ROOT/out/cluster}" && pwd)
BIN=${SKUREEL_BIN:-$ROOT/.venv/bin}
API_PORT=${SKUREEL_CLUSTER_API_PORT:-4300}
PG_PORT=${SKUREEL_CLUSTER_PG_PORT:-55432}
WORKERS=${SKUREEL_CLUSTER_WORKERS:-2}
LIMIT=${SKUREEL_CLUSTER_LIMIT:-2}
POOL=skureel-process
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

CMD=${1:-}
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) WORKERS=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# PostgreSQL refuses to run as root: as root it runs as the `postgres` user, whose data must be reachable by it.
PGROOT="$DIR/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DIR" 2>/dev/null; then
  PGROOT="/var/tmp/skureel-pg-$(printf %s "$DIR" | cksum | cut -d' ' -f1)"
fi
SOCK="$PGROOT/sock"
PREFECT_DB="postgresql+asyncpg://skureel@/prefect?host=$SOCK&port=$PG_PORT"
LEDGER_DB="postgresql+psycopg://skureel@/ledger?host=$SOCK&port=$PG_PORT"
API="http://127.0.0.1:$API_PORT/api"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

daemon() {  # $1 name, then the command: its own session (so `down` can stop its whole group), no inherited fds
  local name=$1; shift
  # a background simple command is not a group leader here, so setsid execs in place: $! is the daemon itself
  (cd "$DIR" && exec setsid "$@" </dev/null >"$DIR/$name.log" 2>&1) &
  echo $! >"$DIR/$name.pid"
}

client_env() {
  export PREFECT_API_URL="$API" SKUREEL_LEDGER_URL="$LEDGER_DB" SKUREEL_CHECKOUT="$ROOT"
  export PREFECT_HOME="${PREFECT_HOME_CLUSTER:-$DIR/prefect-home}" DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
  export SKUREEL_CACHE_DIR="${SKUREEL_CACHE_DIR:-$DIR/cache}"
}

wait_ready() {  # $1 url, $2 seconds
  "$BIN/python" - "$1" "$2" <<'EOF'
import sys, time, httpx
url, limit = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        if httpx.get(url, timeout=2).status_code == 200:
            sys.exit(0)
    except httpx.HTTPError:
        pass
    time.sleep(0.5)
sys.exit(1)
EOF
}

pg_up() {
  [ -n "$PGBIN" ] || { echo "cluster.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 2; }
  mkdir -p "$PGROOT" "$SOCK"
  [ "$(id -u)" = 0 ] && chown postgres "$PGROOT" "$SOCK"
  if [ ! -f "$PGROOT/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$PGROOT/data" -A trust -U skureel -E UTF8 >"$DIR/initdb.log" 2>&1
  fi
  if ! as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/postgres.log" -w \
      -o "-k $SOCK -p $PG_PORT -c listen_addresses='' -c max_connections=200 ${SKUREEL_CLUSTER_PG_OPTIONS:-}" start </dev/null >/dev/null 2>&1
  fi
  for db in prefect ledger; do
    as_pg "$PGBIN/psql" -h "$SOCK" -p "$PG_PORT" -U skureel -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" \
      | grep -q 1 || as_pg "$PGBIN/createdb" -h "$SOCK" -p "$PG_PORT" -U skureel "$db"
  done
}

server_up() {
  alive "$DIR/server.pid" && return 0
  PREFECT_SERVER_DATABASE_CONNECTION_URL="$PREFECT_DB" PREFECT_SERVER_API_HOST=127.0.0.1 \
    PREFECT_SERVER_API_PORT="$API_PORT" PREFECT_UI_ENABLED="${SKUREEL_CLUSTER_UI:-true}" \
    daemon server "$BIN/prefect" server start
  wait_ready "$API/ready" 180 || { echo "cluster.sh: the Prefect server did not become ready (see $DIR/server.log)" >&2; exit 1; }
}

deploy() {
  "$BIN/prefect" work-pool inspect "$POOL" >/dev/null 2>&1 || "$BIN/prefect" work-pool create "$POOL" --type process >/dev/null
  (cd "$ROOT" && "$BIN/prefect" --no-prompt deploy --all --prefect-file deploy/prefect.yaml >"$DIR/deploy.log" 2>&1) \
    || { echo "cluster.sh: prefect deploy failed (see $DIR/deploy.log)" >&2; exit 1; }
  "$BIN/prefect" automation ls 2>/dev/null | grep -q "skureel zombie flow runs" \
    || "$BIN/prefect" automation create --from-file "$ROOT/deploy/zombie.yaml" >/dev/null
}

workers_up() {
  for i in $(seq 1 "$WORKERS"); do
    alive "$DIR/worker-$i.pid" && continue
    PREFECT_WORKER_QUERY_SECONDS="${PREFECT_WORKER_QUERY_SECONDS:-5}" \
      PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-30}" \
      daemon "worker-$i" "$BIN/prefect" worker start --pool "$POOL" --limit "$LIMIT" --name "skureel-worker-$i"
  done
}

up() {
  client_env
  pg_up
  server_up
  deploy
  workers_up
  echo "skureel cluster up: $WORKERS workers x $LIMIT slots; API $API; UI http://127.0.0.1:$API_PORT"
  echo "ledger: $LEDGER_DB"
  echo "run: eval \"\$(deploy/cluster.sh env)\" && .venv/bin/skureel run CATALOG --brand KIT --on-cluster"
}

status() {
  local state code=0
  if as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; then
    echo "postgres  pid $(head -1 "$PGROOT/data/postmaster.pid")  socket $SOCK port $PG_PORT"
  else echo "postgres  stopped"; code=1; fi
  for f in "$DIR"/server.pid "$DIR"/worker-*.pid; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .pid)
    if alive "$f"; then state="pid $(cat "$f")"; else state="stopped"; code=1; fi
    [ "$name" = server ] && state="$state  $API"
    echo "$name  $state"
  done
  return $code
}

stop_pid() {  # $1 pid file, $2 grace seconds: the process group (setsid), then anything left of it
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  local children; children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)  # flow-run processes of a worker
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 $(( $2 * 2 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  for child in $children; do kill -KILL -- "-$child" 2>/dev/null || kill -KILL "$child" 2>/dev/null || true; done
  rm -f "$1"
}

down() {
  for f in "$DIR"/worker-*.pid; do stop_pid "$f" 10; done
  stop_pid "$DIR/server.pid" 15
  if [ -n "$PGBIN" ] && [ -f "$PGROOT/data/PG_VERSION" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  echo "skureel cluster down"
}

case "$CMD" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export PREFECT_API_URL='$API' SKUREEL_LEDGER_URL='$LEDGER_DB'" ;;
  *) echo "usage: deploy/cluster.sh up [--workers N] [--limit L] | status | down | env" >&2; exit 2 ;;
esac
