# syntax=docker/dockerfile:1
# Herald's one image. It runs the API by default; the worker is the same image with
#   node dist/src/worker.js
# Debian (glibc), not Alpine: the worker loads @temporalio/core-bridge, a native module
# published for glibc Linux (x86_64 and aarch64) only.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: compile TypeScript and prebuild the workflow bundle ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/: what `npm install` changes in locked dependencies (its postinstall runs patch-package).
COPY patches ./patches
# `npm install --no-save` rather than `npm ci`: the lockfile lacks other platforms' optional
# binaries (e.g. @swc/core-darwin-*), which npm ci counts as out of sync. It installs the locked versions.
RUN npm install --no-save --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# The portal's source: `npm run build` bundles it into dist/portal, which the API serves at /portal.
COPY portal ./portal
# tsc writes dist/src, dist/scripts and dist/package.json (dist/src/version.js reads it);
# then scripts/bundle-workflows.ts writes dist/workflow-bundle.js, so workers start without webpack.
RUN npm run build

# ---- runtime: production dependencies and dist/ only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HERALD_HOST=0.0.0.0 \
    HERALD_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm install --no-save --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's unprivileged user (uid 1000); the app only reads /app.
USER node
# 8080: the API; 9464: the worker's /metrics (HERALD_WORKER_METRICS_PORT).
EXPOSE 8080 9464
CMD ["node", "dist/src/api.js"]
