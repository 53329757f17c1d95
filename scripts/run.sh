#!/usr/bin/env bash
# Install (first time) and run Simulcast on its embedded default: http://localhost:8000
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/python main.py "$@"
