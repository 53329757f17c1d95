#!/usr/bin/env bash
# Install what Simulcast needs on Debian: a Python 3.11+ virtualenv with the runtime packages,
# and with `--test` also everything the test suite starts (Chromium, redis-server, Xvfb, nginx,
# ffmpeg, the kiosk's Qt/PyInstaller). Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[[ "${1:-}" == "--test" ]] && want_tests=1

apt_packages=(python3 python3-venv python3-pip)
if (( want_tests )); then
  # chromium: e2e tests; redis-server: multi-worker tests; nginx-light: media benchmark and the
  # X-Accel-Redirect test; libnginx-mod-nchan: the FANOUT=nchan test and benchmark;
  # xvfb + libgl1/libegl1/fonts: the kiosk's Qt WebEngine; ffmpeg: samples;
  # systemd: systemd-analyze checks examples/simulcast.service; firefox-esr, webkit2gtk-driver
  # (WebKitWebDriver + MiniBrowser) and GStreamer's good plugins (WebM in WebKitGTK): the sync
  # tests and bench/sync.py in other engines than Chromium.
  apt_packages+=(firefox-esr webkit2gtk-driver gstreamer1.0-plugins-good gstreamer1.0-plugins-base
                 chromium redis-server nginx-light libnginx-mod-nchan xvfb ffmpeg fonts-dejavu-core systemd
                 libgl1 libegl1 libxkbcommon0 libnss3 libxcomposite1 libxdamage1 libxrandr2
                 libxtst6 libxkbfile1 libasound2 libfontconfig1 libdbus-1-3)
  # npm: axe-core for the e2e tests. Only from Debian when no npm is on the PATH: Debian's npm
  # conflicts with a Node.js installed from elsewhere (e.g. NodeSource), which brings its own.
  command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
fi
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if (( ${#missing[@]} )); then
  echo "Installing system packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Simulcast needs Python 3.11 or newer; $python is $("$python" --version)." >&2
  exit 1
fi
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# From the lock files: the exact versions and file hashes the project was tested with
# (scripts/lock.sh makes them from the requirements*.txt inputs).
if (( want_tests )); then
  .venv/bin/pip install -q --require-hashes -r requirements-dev.lock
  # From package-lock.json: axe-core (accessibility checks injected into the pages by the e2e
  # tests) and puppeteer-core (drives Debian's firefox-esr; it never downloads a browser).
  if [[ ! -f node_modules/axe-core/axe.min.js || ! -d node_modules/puppeteer-core ]]; then
    PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
  fi
else
  .venv/bin/pip install -q --require-hashes -r requirements.lock
fi
# The project itself, editable: `.venv/bin/simulcast` runs this checkout's code.
[[ -x .venv/bin/simulcast ]] || .venv/bin/pip install -q --no-deps -e .
