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

# The compatibility adapter (WebGPU on ANGLE's OpenGL ES: Mesa's llvmpipe on
# a machine without a GPU, several times faster than SwiftShader) needs the
# system's EGL and Mesa's drivers, which Debian's chromium does not pull in.
if command -v dpkg-query >/dev/null; then
  missing=()
  for pkg in libegl1 libegl-mesa0 libgl1-mesa-dri; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[setup] installing ${missing[*]} (EGL and Mesa, for the compat adapter)" >&2
      if ! apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
          echo "[setup] could not install ${missing[*]}; the compat adapter will be missing (core still works)" >&2
      fi
    else
      echo "[setup] for the faster compat adapter: apt-get install ${missing[*]} (as root)" >&2
    fi
  fi
fi

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
