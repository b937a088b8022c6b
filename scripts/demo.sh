#!/usr/bin/env bash
# Install, then run the main job: real samples from ../shared/data through the whole pipeline
# (store, database, queue, worker, real models) to cases awaiting an officer's review.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ROADWITNESS_DATA_DIR="${ROADWITNESS_DATA_DIR:-var/demo}"
rm -rf "$ROADWITNESS_DATA_DIR"
exec .venv/bin/roadwitness demo "$@"
