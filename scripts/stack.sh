#!/usr/bin/env bash
# `make dev` and `make infra`: runs Temporal's dev server (with Herald's search attributes),
# a MongoDB-protocol store, and unless --infra the API and one worker, in the foreground.
# Ctrl-C (SIGINT) or SIGTERM stops them all; data stays in $HERALD_DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-dev}
TOOLS_DIR=${HERALD_TOOLS_DIR:-$HOME/.cache/herald/bin}

export HERALD_DATA_DIR=${HERALD_DATA_DIR:-.herald}
export HERALD_HOST=${HERALD_HOST:-127.0.0.1}
export HERALD_PORT=${HERALD_PORT:-8080}
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
MONGO_PORT=${MONGO_PORT:-27017}
export TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_PORT
# The portal links each event to its workflow in this Web UI.
export HERALD_TEMPORAL_UI_URL=${HERALD_TEMPORAL_UI_URL:-http://127.0.0.1:$TEMPORAL_UI_PORT}
# The dev stack delivers to receivers on this machine, so the private-target guard is off
# unless the caller sets HERALD_ALLOW_PRIVATE_TARGETS=0.
export HERALD_ALLOW_PRIVATE_TARGETS=${HERALD_ALLOW_PRIVATE_TARGETS:-1}
mkdir -p "$HERALD_DATA_DIR"

HERALD_TEMPORAL=${HERALD_TEMPORAL:-dev}
if [[ "$HERALD_TEMPORAL" != dev && "$HERALD_TEMPORAL" != server ]]; then
  echo "HERALD_TEMPORAL=$HERALD_TEMPORAL: use dev (the CLI's dev server) or server (Temporal server on PostgreSQL)" >&2
  exit 1
fi

if [[ -z "${HERALD_ADMIN_KEY:-}" ]]; then
  if [[ ! -s "$HERALD_DATA_DIR/admin-key" ]]; then
    (umask 077; node -e "console.log('hk_admin_' + require('crypto').randomBytes(24).toString('base64url'))" > "$HERALD_DATA_DIR/admin-key")
  fi
  HERALD_ADMIN_KEY=$(cat "$HERALD_DATA_DIR/admin-key")
fi
export HERALD_ADMIN_KEY

# Subscription secrets are sealed at rest with this key; losing it loses them.
if [[ -z "${HERALD_ENCRYPTION_KEY:-}" ]]; then
  if [[ ! -s "$HERALD_DATA_DIR/encryption-key" ]]; then
    (umask 077; node -e "console.log(require('crypto').randomBytes(32).toString('base64'))" > "$HERALD_DATA_DIR/encryption-key")
  fi
  HERALD_ENCRYPTION_KEY=$(cat "$HERALD_DATA_DIR/encryption-key")
fi
export HERALD_ENCRYPTION_KEY

pids=()
stopping=0
stop_all() {
  [[ $stopping == 1 ]] && return
  stopping=1
  echo; echo "Stopping Herald..."
  # Reverse order: API and worker first, then the servers they use.
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "Stopped. Data kept in $HERALD_DATA_DIR"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_for_port() { # name port
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not open port $2" >&2
  exit 1
}

mkdir -p "$HERALD_DATA_DIR/logs"
if [[ "$HERALD_TEMPORAL" == server ]]; then
  # The production-shaped Temporal on this machine's PostgreSQL; the first run builds it.
  bash scripts/tools.sh server
  TEMPORAL_PORT=$TEMPORAL_PORT TEMPORAL_UI_PORT=$TEMPORAL_UI_PORT bash scripts/temporal-server.sh &
  pids+=($!)
  for _ in $(seq 1 600); do [[ -e "$HERALD_DATA_DIR/temporal-server/ready" ]] && break; sleep 0.2; done
  [[ -e "$HERALD_DATA_DIR/temporal-server/ready" ]] || { echo "the Temporal server did not get ready; see $HERALD_DATA_DIR/logs" >&2; exit 1; }
  temporal_kind="Temporal server on PostgreSQL"
else
  # SQLite's defaults (a rollback journal and a sync per commit) cost a third of the time to
  # deliver an import; WAL with synchronous=normal keeps every commit through a crash of the
  # dev server, not through a power loss (docs/operations.md, Tools).
  "$TOOLS_DIR/temporal" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$HERALD_DATA_DIR/temporal.db" --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
    --log-level warn \
    --search-attribute HeraldTenant=Keyword --search-attribute HeraldEventType=Keyword \
    --search-attribute HeraldSubscriptionIds=KeywordList --search-attribute HeraldStatus=Keyword \
    >> "$HERALD_DATA_DIR/logs/temporal.log" 2>&1 &
  pids+=($!)
  temporal_kind="Temporal dev server"
fi

if [[ -n "${MONGO_URL:-}" ]]; then
  store="MongoDB at $MONGO_URL"
elif command -v mongod >/dev/null; then
  mkdir -p "$HERALD_DATA_DIR/mongod"
  mongod --bind_ip 127.0.0.1 --port "$MONGO_PORT" --dbpath "$HERALD_DATA_DIR/mongod" --quiet >> "$HERALD_DATA_DIR/logs/mongod.log" 2>&1 &
  pids+=($!)
  export MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/herald"
  store="mongod at $MONGO_URL"
else
  "$TOOLS_DIR/herald-ferretdb" -listen "127.0.0.1:$MONGO_PORT" -dir "$HERALD_DATA_DIR/ferretdb" >> "$HERALD_DATA_DIR/logs/ferretdb.log" 2>&1 &
  pids+=($!)
  export MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/herald"
  store="FerretDB (SQLite) at $MONGO_URL"
fi
wait_for_port Temporal "$TEMPORAL_PORT"
[[ "$store" == MongoDB* ]] || wait_for_port "the store" "$MONGO_PORT"

if [[ "$MODE" == dev ]]; then
  node dist/src/worker.js &
  pids+=($!)
  node dist/src/api.js &
  pids+=($!)
  wait_for_port "the API" "$HERALD_PORT"
fi

cat <<BANNER

  Herald is running ($MODE). Ctrl-C stops everything; data stays in $HERALD_DATA_DIR.
  Temporal       $TEMPORAL_ADDRESS ($temporal_kind)
  Temporal UI    http://127.0.0.1:$TEMPORAL_UI_PORT
  Store          $store
BANNER
if [[ "$MODE" == dev ]]; then
  cat <<BANNER
  API            http://$HERALD_HOST:$HERALD_PORT   (OpenAPI: /openapi.json)
  Portal         http://$HERALD_HOST:$HERALD_PORT/portal/   (sign in with an API key)
  Admin key      $HERALD_ADMIN_KEY
  Secrets are sealed with HERALD_ENCRYPTION_KEY (kept in $HERALD_DATA_DIR/encryption-key unless set)
  Private targets allowed: $HERALD_ALLOW_PRIVATE_TARGETS (set HERALD_ALLOW_PRIVATE_TARGETS=0 to keep the guard on)

BANNER
else
  echo "  Run the processes yourself: npm run api / npm run worker (HERALD_ADMIN_KEY=$HERALD_ADMIN_KEY)"
fi

# Any process ending on its own brings the whole stack down rather than leaving half of it.
wait -n "${pids[@]}" || true
echo "A process of the stack exited; see $HERALD_DATA_DIR/logs and the output above." >&2
exit 1
