#!/bin/sh
# Installs the project's npm dependencies (including the pinned Node.js 24 runtime, the `node` package)
# when node_modules is missing or older than the lockfile, so `npm start` / `npm test` work on a fresh clone.
set -e
cd "$(dirname "$0")/.."
stamp=node_modules/.bootstrap-stamp
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "bootstrap: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
