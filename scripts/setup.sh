#!/usr/bin/env bash
# Installs what nclab needs and is missing: the npm packages (npm ci), and,
# as root on Debian, a Chromium when none is found and Fashion-MNIST. Every
# command (`npm start`, `npm test`, `npm run bench`) runs this first; it is
# quick when everything is already there.
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

# Fashion-MNIST (science.md §9) for the real-data runs; the tests use the
# committed fixture in test/fixtures/ and never need it.
DATASET=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ ! -f "$DATASET" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Debian's dataset-fashion-mnist" >&2
    if ! apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
        echo "[setup] could not install dataset-fashion-mnist; real-data runs need it (tests do not)" >&2
    fi
  else
    echo "[setup] Fashion-MNIST is missing; for real-data runs: apt-get install dataset-fashion-mnist (as root)" >&2
  fi
fi
