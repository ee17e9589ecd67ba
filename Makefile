# Herald: `make dev` runs the whole stack, `make test` runs every test. Both install what is missing.
SHELL := /bin/bash
.PHONY: dev infra test test-unit test-integration build deps tools clean

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

deps: node_modules/.package-lock.json

tools:
	bash scripts/tools.sh

build: deps
	npm run build

dev: tools build
	bash scripts/stack.sh dev

infra: tools build
	bash scripts/stack.sh infra

test: tools build
	npm run typecheck
	npx jest --selectProjects unit
	npx jest --selectProjects integration

clean:
	rm -rf dist
