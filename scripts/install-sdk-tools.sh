#!/usr/bin/env bash
# Installs the payment processors' official Python SDKs into a virtualenv at target/sdk-venv
# (gitignored) for the SDK signing tests (crates/app/tests/it/processor_sdks.rs), which sign
# deliveries with each SDK and check Refline accepts exactly what the SDK accepts. Without the
# virtualenv those tests print a notice and are skipped.
#
#   scripts/install-sdk-tools.sh            # from the repository root (or anywhere)
#
# Set REFLINE_SDK_PYTHON to use another interpreter that has the packages instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/sdk-venv"
# Pinned so a new SDK release cannot change what the tests compare against unnoticed.
packages=(standardwebhooks==1.1.0 stripe==16.1.0 paddle-python-sdk==1.16.1 polar-sdk==1.0.2)

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "NOTICE: $python not found; SDK signing tests will be skipped." >&2
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$root/target"
  if ! "$python" -m venv "$venv"; then
    # Debian needs the python3-venv package for this.
    rm -rf "$venv"
    echo "NOTICE: could not create a virtualenv with $python; SDK signing tests will be skipped." >&2
    exit 0
  fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
"$venv/bin/python" "$root/scripts/sdk_sign.py" check
