#!/usr/bin/env bash
# Install everything the tests need, then lint and run the whole suite.
# Extra arguments go to pytest, e.g. ./scripts/test.sh tests/test_clock.py -x
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh --test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
