#!/usr/bin/env bash
# Installs headless Chromium (Debian package `chromium`) for the browser tests
# and chromedriver (Debian package `chromium-driver`) for the browser tests
# (crates/app/tests/it/browser.rs, dashboard_browser.rs). Does nothing when both are there.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -e /usr/bin/chromedriver ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "NOTICE: apt-get not found; install Chromium yourself (or set REFLINE_CHROMIUM). Browser tests will be skipped." >&2
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "NOTICE: not root and no sudo; cannot install Chromium. Browser tests will be skipped." >&2
    exit 0
  fi
fi

echo "installing Chromium"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
/usr/bin/chromium --version
