#!/bin/sh
# Installs the project's npm dependencies (including the pinned Node.js 24 runtime, the `node` package)
# when node_modules is missing or older than the lockfile, so `npm start` / `npm test` work on a fresh clone.
set -e
cd "$(dirname "$0")/.."
stamp=node_modules/.bootstrap-stamp
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "bootstrap: installing npm dependencies" >&2
  # npm 11.19 writes lockfiles without the other platforms' optional packages (Biome's CLI builds) and then
  # refuses them in `npm ci`; `npm install` installs the same locked versions.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
