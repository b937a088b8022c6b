#!/usr/bin/env bash
# Install, then lint, type-check and run the whole test suite (unit and integration: a real S3
# server is started by the tests; PostgreSQL is expected on 127.0.0.1:5432 with trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev,paddle bash scripts/setup.sh
bash scripts/test-system.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# pytest-randomly (dev extra) runs the tests in a random order. The seed is printed first (the
# header that would name it is hidden by -q): RANDOMLY_SEED=N bash scripts/test.sh reruns that
# order, and -p no:randomly turns the shuffling off.
seed="${RANDOMLY_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
echo "==> tests in random order, seed $seed (RANDOMLY_SEED=$seed reruns this order)"
exec .venv/bin/python -m pytest -p randomly --randomly-seed="$seed" "$@"
