#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check (mypy --strict on server/ and
# shared/, configured in pyproject.toml) and run the whole suite.
# Extra arguments go to pytest, e.g. ./scripts/test.sh tests/test_clock.py -x
# The suite runs in TEST_WORKERS processes (default 2), each test file whole in one of them so
# a module's shared servers and browser stay shared; TEST_WORKERS=0 runs it in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh --test
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
