#!/usr/bin/env bash
# Builds the servers Herald's dev and test stacks run, once, into a cache outside the
# clone (HERALD_TOOLS_DIR, default ~/.cache/herald/bin), so later runs and CI reuse them:
#   temporal         the Temporal CLI (dev server + Web UI), v1.5.1: later tags carry
#                    `replace` directives and cannot be `go install`ed
#   herald-ferretdb  FerretDB v1.24.2 embedded in tools/ferretdb, with its patches (rebuilt when
#                    its source or a patch changes)
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS_DIR=${HERALD_TOOLS_DIR:-$HOME/.cache/herald/bin}
TEMPORAL_CLI_VERSION=v1.5.1
mkdir -p "$TOOLS_DIR"

command -v go >/dev/null || { echo "tools: Go is required to build the Temporal CLI and FerretDB (https://go.dev/dl/)" >&2; exit 1; }

# `go install` builds report version 0.0.0-DEV, so a stamp file records what was built.
if [[ ! -x "$TOOLS_DIR/temporal" || "$(cat "$TOOLS_DIR/temporal.stamp" 2>/dev/null)" != "$TEMPORAL_CLI_VERSION" ]]; then
  echo "tools: building the Temporal CLI $TEMPORAL_CLI_VERSION (first time only, a few minutes)..."
  GOBIN="$TOOLS_DIR" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  echo "$TEMPORAL_CLI_VERSION" > "$TOOLS_DIR/temporal.stamp"
fi

stamp=$(cat tools/ferretdb/go.mod tools/ferretdb/go.sum tools/ferretdb/*.go tools/ferretdb/patches/*.patch | sha256sum | cut -c1-16)
if [[ ! -x "$TOOLS_DIR/herald-ferretdb" || "$(cat "$TOOLS_DIR/herald-ferretdb.stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "tools: building FerretDB (first time only, a few minutes)..."
  # FerretDB's module, as pinned in go.sum, with tools/ferretdb/patches applied, built through
  # a copy of go.mod that replaces the module by the patched copy (the module cache is read-only).
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd tools/ferretdb && go mod download github.com/FerretDB/FerretDB)
  cp -R "$(cd tools/ferretdb && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)" "$work/ferretdb"
  chmod -R u+w "$work/ferretdb"
  # No fuzz: a patch that no longer fits its FerretDB version fails the build instead of landing elsewhere.
  for p in tools/ferretdb/patches/*.patch; do patch -s --fuzz=0 -d "$work/ferretdb" -p1 < "$p"; done
  cp tools/ferretdb/go.mod "$work/go.mod"
  cp tools/ferretdb/go.sum "$work/go.sum"
  echo "replace github.com/FerretDB/FerretDB => $work/ferretdb" >> "$work/go.mod"
  (cd tools/ferretdb && go build -modfile="$work/go.mod" -o "$TOOLS_DIR/herald-ferretdb" .)
  rm -rf "$work"
  trap - EXIT
  echo "$stamp" > "$TOOLS_DIR/herald-ferretdb.stamp"
fi

# The browser tests drive the portal and the Temporal Web UI in Debian's Chromium (never a
# downloaded browser): only `make test` asks for it (HERALD_WITH_BROWSER=1, scripts/test.sh), so
# `make dev` and the benches run without it, and without root.
if [[ -n "${HERALD_WITH_BROWSER:-}" ]] && ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "tools: installing Debian's chromium for the browser tests..."
    apt-get install -y --no-install-recommends chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
  else
    echo "tools: chromium is missing; install Debian's 'chromium' package (as root: apt-get install chromium) for the browser tests" >&2
    exit 1
  fi
fi

# `tools.sh server`: the production-shaped Temporal (HERALD_TEMPORAL=server, make bench): the
# real server and its SQL schema tool, with the schema files they ship, and the Web UI server.
if [[ "${1:-}" == server ]]; then
  TEMPORAL_SERVER_VERSION=v1.29.1 # the server generation the CLI v1.5.1 dev server embeds
  UI_SERVER_VERSION=v2.42.1       # the Web UI the CLI v1.5.1 serves
  build() { # binary package version
    if [[ ! -x "$TOOLS_DIR/$1" || "$(cat "$TOOLS_DIR/$1.stamp" 2>/dev/null)" != "$3" ]]; then
      echo "tools: building $1 $3 (first time only, several minutes)..."
      local tmp; tmp=$(mktemp -d)
      GOBIN="$tmp" go install "$2@$3"
      mv "$tmp"/* "$TOOLS_DIR/$1" # the one binary go install wrote
      rm -rf "$tmp"
      echo "$3" > "$TOOLS_DIR/$1.stamp"
    fi
  }
  build temporal-server go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION"
  build temporal-sql-tool go.temporal.io/server/cmd/tools/sql "$TEMPORAL_SERVER_VERSION"
  build temporal-ui-server github.com/temporalio/ui-server/v2/cmd/server "$UI_SERVER_VERSION"
  if [[ "$(cat "$TOOLS_DIR/temporal-schema.stamp" 2>/dev/null)" != "$TEMPORAL_SERVER_VERSION" ]]; then
    rm -rf "$TOOLS_DIR/temporal-schema"
    cp -r "$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema" "$TOOLS_DIR/temporal-schema"
    chmod -R u+w "$TOOLS_DIR/temporal-schema"
    echo "$TEMPORAL_SERVER_VERSION" > "$TOOLS_DIR/temporal-schema.stamp"
  fi
fi
