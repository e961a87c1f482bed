# syntax=docker/dockerfile:1
#
# Latch BFF container: `docker build -t latch-bff .` then see docs/deploy.md.
#
# Two stages. The build stage installs every dependency and runs `npm run build`: the widget
# (dist/latch*.js) and the BFF bundled by esbuild (dist/bff/*.js, production dependencies inlined,
# devDependencies refused by the build). The runtime stage holds dist/ only: no node_modules, no npm,
# no sources, no dev dependencies; it runs as the unprivileged `node` user.
# test/deploy/container.test.ts reads this file and runs its CMD and HEALTHCHECK the way Docker would.

ARG NODE_VERSION=20.19

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts stay off (esbuild and rolldown ship their binaries as optional packages).
# `npm install` rather than `npm ci` for the reason given in .ci/run; it follows the lockfile.
RUN npm install --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
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
