# One image for every Node service of the platform (broker, command, ingest, simulator); docker-compose.yml
# chooses the service with `command:`. The services are TypeScript run directly by Node 24's type stripping,
# so the image holds Node >= 24, the .ts sources and the runtime dependencies, and there is no build step.
#
#   docker build -t casablanca-telemetry .
#   docker run --rm casablanca-telemetry node services/command/main.ts
#
# See docs/operations.md ("Docker Compose").

ARG NODE_IMAGE=node:24-slim

# --- dependencies: `dependencies` of package.json only --------------------------------------------------------
# devDependencies (typescript, vitest, biome, testcontainers, the `node` runtime package that pins Node for
# `npm start`) are not needed: no service imports them (tests/unit/compose.test.ts checks every package the
# entry points import against the lockfile). Every package with an install script in the lockfile is a dev
# dependency, so --ignore-scripts changes nothing at runtime and runs no third-party code at build time.
# `npm install` with the lockfile present installs its versions. `npm ci` would be stricter, but npm 11 refuses
# this lockfile: it lists only the linux-glibc builds among @biomejs/biome's optional platform packages.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the service user: the code is not data.
COPY --from=deps /app/node_modules ./node_modules
# .dockerignore lets through only package.json (its "type": "module" makes the .ts files ES modules), config/,
# services/ and simulators/.
COPY . .
# Data lives in volumes mounted here (docker-compose.yml). The folders exist in the image, owned by the `node`
# user, so that a fresh named volume is created with that owner and the services can write to it.
RUN mkdir -p /data/registry /data/ingest-spool /data/broker /data/simulator /run/platform-secrets \
 && chown -R node:node /data /run/platform-secrets
USER node
# No default service: the compose file (or `docker run … node <entry point>`) names one.
CMD ["node", "-e", "console.error('choose a service: node services/broker/main.ts | services/command/main.ts | services/ingest/main.ts | simulators/main.ts'); process.exit(2)"]
