#!/usr/bin/env bash
# Regenerate the lock files from the unpinned inputs, with pip-tools:
#   requirements.txt                               -> requirements.lock        (the server)
#   requirements-kiosk.txt                         -> requirements-kiosk.lock  (the kiosk build)
#   requirements-dev.txt + requirements-kiosk.txt  -> requirements-dev.lock    (tests: all of it)
# Run it after adding or changing a dependency in a requirements*.txt, and commit the .lock files
# with it. Pins already in the locks are kept; `--upgrade` moves everything to the newest
# releases, `--upgrade-package NAME` just one (any pip-compile option goes through).
# The locks are for CPython 3.11 on Linux x86_64 (Debian 12), like every install script here.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x .venv/bin/pip-compile ]] || .venv/bin/python -m pip install -q pip-tools

compile() {
  # This machine's pip settings (extra indexes, local wheel folders) stay out: a lock lists what
  # PyPI serves, with every file's hash, so it installs the same anywhere.
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL -u PIP_CONSTRAINT \
    PIP_CONFIG_FILE=/dev/null \
    .venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links "$@"
}

# The test lock holds everything; the other two start from its pins, so the three agree on
# every version they share.
compile --output-file requirements-dev.lock "$@" requirements-dev.txt requirements-kiosk.txt
for name in requirements requirements-kiosk; do
  cp requirements-dev.lock "$name.lock"
  compile --output-file "$name.lock" "$name.txt"
done
echo "Locked: requirements.lock requirements-kiosk.lock requirements-dev.lock"
