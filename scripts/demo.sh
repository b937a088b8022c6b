#!/usr/bin/env bash
# Install, then run the main job: real samples from ../shared/data through the whole pipeline
# (store, database, queue, worker, real models) to cases awaiting an officer's review, and a
# composited emergency-lane dashcam clip made at run time from ../shared (never stored here)
# that the system judges by itself: an emergency_lane@1 case with its plate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ROADWITNESS_DATA_DIR="${ROADWITNESS_DATA_DIR:-var/demo}"
rm -rf "$ROADWITNESS_DATA_DIR"
exec .venv/bin/roadwitness demo "$@"
