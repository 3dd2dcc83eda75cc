#!/usr/bin/env bash
# Install everything the project needs from its own files: Debian packages, the virtualenv with
# the Python dependencies, and the front-end assets from the npm registry (copied into
# app/static/vendor). Idempotent: a second run only checks and returns quickly.
#   scripts/setup.sh run    what `make run` needs
#   scripts/setup.sh test   plus the test and lint tools and Chromium
#   scripts/setup.sh bench  plus the benchmark's load client (wrk), gunicorn, tipg and folium
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
case "$mode" in run|test|bench) ;; *) echo "usage: scripts/setup.sh run|test|bench" >&2; exit 2 ;; esac

say() { printf '==> %s\n' "$*"; }

# --- Debian packages ---------------------------------------------------------------------------
lists="scripts/apt-packages.txt"
[ "$mode" = run ] || lists="$lists scripts/apt-packages-test.txt"
[ "$mode" = bench ] && lists="$lists scripts/apt-packages-bench.txt"
packages=$(grep -hv '^\s*#' $lists | xargs)
command -v npm >/dev/null 2>&1 || packages="$packages nodejs npm"
missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "Missing Debian packages:$missing. Install them as root (apt-get install$missing)." >&2; exit 1; }
    sudo=sudo
  fi
  say "Installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

# --- Python virtualenv ---------------------------------------------------------------------------
case "$mode" in test) extras="[test,dev]" ;; bench) extras="[test,dev,bench]" ;; *) extras="" ;; esac
stamp=".venv/.installed"
hash=$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)
installed=$(cat "$stamp" 2>/dev/null || true)
if [ ! -x .venv/bin/python ]; then
  say "Creating the virtualenv .venv"
  python3 -m venv .venv
  installed=""
fi
# A bench install also serves the tests, a test install also `make run`; else install again.
serves() { [ "$installed" = "$hash $1" ]; }
if ! serves "$extras" && ! serves "[test,dev,bench]" && { [ "$mode" = bench ] || ! serves "[test,dev]"; }; then
  say "Installing Python dependencies$extras"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".$extras"
  echo "$hash $extras" > "$stamp"
fi

# --- Translations (compiled from the .po files the project keeps) ------------------------------
for po in app/translations/*/LC_MESSAGES/messages.po; do
  [ "${po%.po}.mo" -nt "$po" ] || .venv/bin/pybabel -q compile -d app/translations
done

# --- Front-end assets from the npm registry --------------------------------------------------
if [ "$(cat node_modules/.installed 2>/dev/null)" != "$(sha256sum package-lock.json | cut -c1-16)" ]; then
  say "Installing front-end packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json | cut -c1-16 > node_modules/.installed
fi
vendor=app/static/vendor
if [ ! -f "$vendor/.copied" ] || [ node_modules/.installed -nt "$vendor/.copied" ]; then
  say "Copying front-end assets into $vendor"
  rm -rf "$vendor"
  mkdir -p "$vendor/leaflet"
  cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$vendor/leaflet/"
  cp -r node_modules/leaflet/dist/images "$vendor/leaflet/"
  cp node_modules/leaflet/LICENSE "$vendor/leaflet/LICENSE"
  touch "$vendor/.copied"
fi
say "Set-up complete ($mode)."
