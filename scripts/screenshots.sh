#!/usr/bin/env bash
# Takes the README's dashboard screenshots (docs/screenshots/*.png) with the browser test of the
# merchant journey: headless Chromium against a real server (scripts/install-browser.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
REFLINE_SCREENSHOTS="$PWD/docs/screenshots" \
  cargo test -p refline --test it dashboard_browser::a_merchant_signs_up_and_generates_a_key_shown_once
ls -l docs/screenshots
