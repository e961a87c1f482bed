# syntax=docker/dockerfile:1
#
# Latch BFF container: `docker build -t latch-bff .` then see docs/deploy.md.
#
# Two stages. The build stage installs every dependency and runs `npm run build`: the widget
# (dist/latch*.js) and the BFF bundled by esbuild (dist/bff/*.js, production dependencies inlined,
# devDependencies refused by the build). The runtime stage holds dist/ only: no node_modules, no npm,
# no sources, no dev dependencies; it runs as the unprivileged `node` user.
# test/deploy/container.test.ts reads this file and runs its CMD and HEALTHCHECK the way Docker would
# (no Docker engine there: the runtime stage's layout, on the Node running the test).

# Node 24 (LTS until April 2028) on Debian 13 "trixie" (stable; Debian 12's regular security support
# ended in June 2026), both pinned: the same 24.x that CI runs the whole suite on (scripts/node24.sh),
# so the image runs exactly the Node the tests passed on. test/deploy/container.test.ts checks that
# the two stay the same, and CI's Node 24 run of it runs this file's CMD and HEALTHCHECK on that Node.
ARG NODE_IMAGE=node:24.22.3-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Exactly the lockfile. Install scripts stay off (esbuild and rolldown ship their binaries as
# optional packages, which the lockfile lists for every platform).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    LATCH_HOST=0.0.0.0 \
    PORT=8787
WORKDIR /app
# Owned by root, read-only for the node user that runs it.
COPY --from=build /src/dist ./dist
USER node
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "dist/bff/cli.js", "--healthcheck"]
# node is PID 1 and handles SIGTERM itself: stops accepting, finishes requests in flight, exits
# within 10 s (Docker's default stop timeout). Exec form, so no shell sits between.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/bff/server.js"]
