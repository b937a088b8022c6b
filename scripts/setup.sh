#!/usr/bin/env bash
# Install roadwitness and its test tools into .venv (idempotent; re-runs only when
# pyproject.toml or the extras change). Needs Python >= 3.11 and the package registries.
# EXTRAS picks the optional parts: "dev" (default), "dev,paddle" adds the Paddle Inference
# plate reader backend (about 700 MB; the tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.roadwitness-installed
EXTRAS="${EXTRAS:-dev}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing roadwitness and its dependencies (torch, ultralytics, onnxruntime: a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  # torch 2.14.1 / torchvision 0.29.1 are pinned in pyproject.toml (ultralytics needs torchvision).
  .venv/bin/python -m pip install --quiet -e ".[$EXTRAS]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c "import roadwitness.cli, ultralytics, onnxruntime, torchvision" \
    || { echo "install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
# The review desk's map (Leaflet, BSD-2-Clause) from npm; without npm the desk draws the
# place on a plain canvas instead.
if [ ! -f api/desk/node_modules/leaflet/dist/leaflet.js ] && command -v npm >/dev/null; then
  echo "==> installing the review desk's map (npm: leaflet)"
  (cd api/desk && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) \
    || echo "note: npm could not install leaflet; the desk falls back to a plain canvas map" >&2
fi
# The reporter page's resumable uploads (tus-js-client 4.3.1, MIT) from npm; without it /report
# cannot send (its browser test skips).
if [ ! -f api/report/node_modules/tus-js-client/dist/tus.min.js ] && command -v npm >/dev/null; then
  echo "==> installing the reporter page's upload client (npm: tus-js-client)"
  (cd api/report && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) \
    || echo "note: npm could not install tus-js-client; /report cannot upload" >&2
fi
