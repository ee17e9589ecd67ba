# Herald: `make dev` runs the whole stack, `make test` runs every test. Both install what is missing.
SHELL := /bin/bash
.PHONY: dev infra test test-unit test-integration build deps tools bench bench-audit chaos overload clean

# Also after a change in patches/: npm install runs patch-package, which applies them.
node_modules/.package-lock.json: package-lock.json $(wildcard patches/*.patch)
	@# npm ci refuses this lockfile: the registry reachable here lacks the other platforms' optional
	@# binaries (e.g. @swc/core-darwin-*). `npm install --no-save` installs exactly the locked versions.
	npm install --no-audit --no-fund --no-save

deps: node_modules/.package-lock.json

# The servers only: the browser (Debian's chromium) is for the tests, which scripts/test.sh asks for.
tools:
	bash scripts/tools.sh

build: deps
	npm run build

dev: tools build
	bash scripts/stack.sh dev

infra: tools build
	bash scripts/stack.sh infra

# Every phase timed (scripts/test.sh): tools, build, typecheck, lint, unit, workflow, integration
# (one file at a time: they share one Temporal and one store on two cores) and a quick chaos
# run; prints the times against their budgets and fails on a failure or an overrun.
test:
	bash scripts/test.sh

# The production-shaped stack (Temporal server on PostgreSQL) against a plain-Node baseline
# and a bare-Temporal floor; QUICK=1 takes about 6 minutes. Results land in bench/results/.
bench: tools build
	bash scripts/tools.sh server
	QUICK=$(QUICK) node dist/bench/run.js

# The same recording rate and end-to-end latency with an empty audit and with 200,000 stored
# events (QUICK=1: 50,000), on FerretDB/SQLite and FerretDB/PostgreSQL (BENCH_STORES=...).
bench-audit: tools build
	bash scripts/tools.sh server
	QUICK=$(QUICK) node dist/bench/audit-size.js

# Faults injected into the production-shaped stack under load (SEED=n replays a timetable).
chaos: tools build
	bash scripts/tools.sh server
	QUICK=$(QUICK) CHAOS_SEED=$(SEED) node dist/bench/chaos.js

# Three times the stack's capacity offered for a minute: shed with 429/503, lose nothing.
overload: tools build
	bash scripts/tools.sh server
	node dist/bench/overload.js

clean:
	rm -rf dist
