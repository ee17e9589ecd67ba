#!/usr/bin/env bash
# The production-shaped Temporal: the real Temporal server (not the CLI's dev server) on the
# PostgreSQL that runs on this machine, with its schema set up idempotently, Herald's
# namespace and search attributes registered, and the Web UI served by Temporal's ui-server.
# Runs in the foreground until SIGINT/SIGTERM. Used by `HERALD_TEMPORAL=server make dev|infra`.
#
#   TEMPORAL_PORT       frontend gRPC (default 7233); history, matching and worker use the next ports,
#                       membership port+10..+13: keep port+13 below 32768 (a smallint in Temporal's SQL schema)
#   TEMPORAL_UI_PORT    Web UI (default 8233)
#   TEMPORAL_PG         PostgreSQL server URL (default postgres://postgres@127.0.0.1:5432)
#   TEMPORAL_PG_DB      database name prefix (default herald_temporal; also <prefix>_visibility)
#   TEMPORAL_PG_PLUGIN  Temporal's SQL plugin (default postgres12_pgx; postgres12 for comparison)
#   HERALD_DATA_DIR     where the rendered config and logs go
#   TEMPORAL_PPROF_PORT serve Go's pprof on 127.0.0.1:<port> (unset: not served), to see where
#                       the server's CPU goes (`go tool pprof -top http://127.0.0.1:<port>/debug/pprof/profile`)
#   TEMPORAL_METRICS_PORT serve the server's Prometheus metrics on 127.0.0.1:<port>/metrics (unset: none),
#                       to count what it does per workflow (persistence_requests by operation, tasks by type)
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS_DIR=${HERALD_TOOLS_DIR:-$HOME/.cache/herald/bin}
HERALD_DATA_DIR=${HERALD_DATA_DIR:-.herald}
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
TEMPORAL_PG=${TEMPORAL_PG:-postgres://postgres@127.0.0.1:5432}
DB=${TEMPORAL_PG_DB:-herald_temporal}

bash scripts/tools.sh server

# postgres://user[:password]@host:port
pg_rest=${TEMPORAL_PG#postgres://}; pg_rest=${pg_rest#postgresql://}
pg_cred=${pg_rest%@*}; pg_hostport=${pg_rest#*@}
PG_USER=${pg_cred%%:*}; PG_PASSWORD=""; [[ "$pg_cred" == *:* ]] && PG_PASSWORD=${pg_cred#*:}
PG_HOST=${pg_hostport%:*}; PG_PORT=${pg_hostport##*:}

mkdir -p "$HERALD_DATA_DIR/logs"
sql_tool() {
  "$TOOLS_DIR/temporal-sql-tool" --plugin postgres12 --ep "$PG_HOST" -p "$PG_PORT" -u "$PG_USER" ${PG_PASSWORD:+--pw "$PG_PASSWORD"} "$@" \
    >> "$HERALD_DATA_DIR/logs/temporal-schema.log" 2>&1 || { echo "temporal-sql-tool $* failed; see $HERALD_DATA_DIR/logs/temporal-schema.log" >&2; exit 1; }
}
for name in temporal visibility; do
  db=$DB; [[ $name == visibility ]] && db=${DB}_visibility
  if ! psql "$TEMPORAL_PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    sql_tool --db "$db" create-database
    sql_tool --db "$db" setup-schema -v 0.0
  fi
  # Idempotent: applies only the versions the database does not have yet.
  sql_tool --db "$db" update-schema -d "$TOOLS_DIR/temporal-schema/postgresql/v12/$name/versioned"
done

root="$HERALD_DATA_DIR/temporal-server"
rm -f "$root/ready" # written once the namespace and search attributes are registered
mkdir -p "$root/config/dynamicconfig" "$root/ui/config" "$HERALD_DATA_DIR/logs"
cp tools/temporal-server/dynamicconfig.yaml "$root/config/dynamicconfig/herald.yaml"
# postgres12_pgx: the pgx driver keeps each connection's statements prepared, so PostgreSQL
# stops planning Temporal's statements at every call (postgres12's lib/pq parses and plans
# each one anew: more planning than execution in pg_stat_statements). Measured in alternating
# runs (bench/results/2026-12-06T02*-plug*): PostgreSQL's CPU per bare workflow -45 % at
# F=0 and -50 % at F=10, the floor's rate +25 %, Herald's Temporal PostgreSQL per delivery -32 %.
datastore() { # name database maxConns
  cat <<YAML
    $1:
      sql:
        pluginName: ${TEMPORAL_PG_PLUGIN:-postgres12_pgx}
        databaseName: $2
        connectAddr: "$PG_HOST:$PG_PORT"
        connectProtocol: tcp
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        maxConns: $3
        maxIdleConns: $3
        maxConnLifetime: 1h
YAML
}
service() { # name grpcPort membershipPort
  printf '  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnIP: 127.0.0.1\n' "$1" "$2" "$3"
}
{
  cat <<YAML
log:
  stdout: true
  level: warn
persistence:
  # 4 shards: a shard is the unit of history concurrency, and every write of a workflow
  # share-locks its shard's row in PostgreSQL. make bench's floor-cost on 2 cores
  # (bench/results/floor-cost-2026-12-05T*): 1 shard was 25 % slower than 4; 8 looked 16 %
  # faster on a machine loaded by other work but matched 4 on a quiet one (48.8 vs 44.5-49.3
  # bare workflows/s), so 4 stays. The default 512 is for clusters. Fixed at creation:
  # changing it later needs a new database.
  numHistoryShards: 4
  defaultStore: default
  visibilityStore: visibility
  datastores:
YAML
  # Each of the four services opens its own pools: 4 × (8 + 4) = 48 connections at most,
  # which with FerretDB's 30 stays under PostgreSQL's default max_connections of 100 (the
  # defaults, 4 × (20 + 10), did not: PostgreSQL refused clients under `make bench`).
  datastore default "$DB" 8
  datastore visibility "${DB}_visibility" 4
  cat <<YAML
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
YAML
  if [[ -n "${TEMPORAL_PPROF_PORT:-}" ]]; then printf '  pprof:\n    port: %s\n    host: 127.0.0.1\n' "$TEMPORAL_PPROF_PORT"; fi
  if [[ -n "${TEMPORAL_METRICS_PORT:-}" ]]; then
    printf '  metrics:\n    prometheus:\n      framework: tally\n      timerType: histogram\n      listenAddress: 127.0.0.1:%s\n' "$TEMPORAL_METRICS_PORT"
  fi
  echo 'services:'
  service frontend "$TEMPORAL_PORT" $((TEMPORAL_PORT + 10))
  service history $((TEMPORAL_PORT + 1)) $((TEMPORAL_PORT + 11))
  service matching $((TEMPORAL_PORT + 2)) $((TEMPORAL_PORT + 12))
  service worker $((TEMPORAL_PORT + 3)) $((TEMPORAL_PORT + 13))
  cat <<YAML
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:$TEMPORAL_PORT
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: $root/config/dynamicconfig/herald.yaml
  pollInterval: 10s
YAML
} > "$root/config/development.yaml"
cat > "$root/ui/config/development.yaml" <<YAML
temporalGrpcAddress: 127.0.0.1:$TEMPORAL_PORT
host: 127.0.0.1
port: $TEMPORAL_UI_PORT
enableUi: true
defaultNamespace: default
notifyOnNewVersion: false
cors:
  unsafeAllowAllOrigins: true
YAML

pids=()
stop() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait; }
trap 'stop; exit 0' INT TERM
"$TOOLS_DIR/temporal-server" --root "$root" --config config --env development --allow-no-auth start \
  >> "$HERALD_DATA_DIR/logs/temporal-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$TEMPORAL_PORT") 2>/dev/null && break; sleep 0.2; done

cli() { "$TOOLS_DIR/temporal" --address "127.0.0.1:$TEMPORAL_PORT" "$@"; }
# The frontend answers before the namespace registry is ready: retry until it takes.
for _ in $(seq 1 60); do
  out=$(cli operator namespace create --namespace default --retention 72h 2>&1) && break
  [[ "$out" == *"already"* ]] && break
  sleep 1
done
for sa in HeraldTenant=Keyword HeraldEventType=Keyword HeraldSubscriptionIds=KeywordList HeraldStatus=Keyword; do
  cli operator search-attribute create --namespace default --name "${sa%=*}" --type "${sa#*=}" >/dev/null 2>&1 || true
done
# The frontend checks search attributes against its namespace cache, which reloads on a timer:
# for a second or two after they are created, a start that names them fails (INVALID_ARGUMENT,
# "no mapping defined"), and the API would refuse its first events (503). Ready once a query
# naming all four is accepted. (The history service's cache, which checks a workflow's own
# upserts, reloads on its own timer: a workflow task in that window fails and Temporal retries
# it, a delay rather than an error anyone sees.)
sa_query='HeraldTenant = "ready" AND HeraldEventType = "ready" AND HeraldSubscriptionIds = "ready" AND HeraldStatus = "ready"'
for attempt in $(seq 1 150); do
  out=$(cli workflow list --namespace default --query "$sa_query" --limit 1 --command-timeout 5s 2>&1) && break
  if ((attempt == 150)); then
    echo "Temporal never accepted Herald's search attributes: $out (see $HERALD_DATA_DIR/logs/temporal-server.log)" >&2
    stop
    exit 1
  fi
  sleep 0.2
done

"$TOOLS_DIR/temporal-ui-server" --root "$root/ui" --config config --env development start \
  >> "$HERALD_DATA_DIR/logs/temporal-ui.log" 2>&1 &
pids+=($!)
touch "$root/ready"
echo "Temporal server on PostgreSQL ($DB): 127.0.0.1:$TEMPORAL_PORT, Web UI http://127.0.0.1:$TEMPORAL_UI_PORT"
wait -n "${pids[@]}" || true
stop
exit 1
