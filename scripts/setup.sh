#!/usr/bin/env bash
# Installs what nclab needs and is missing: the npm packages (npm ci), and a
# Chromium when none is found (Debian's package, as root). Every command
# (`npm start`, `npm test`, `npm run bench`) runs this first; it is quick
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null; then
  echo "nclab needs Node.js 20 or newer: apt-get install nodejs npm" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
node bin/nclab.js browser --install >&2
