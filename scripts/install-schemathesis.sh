#!/usr/bin/env bash
# Installs Schemathesis (PyPI) into a virtualenv for scripts/schemathesis.sh, which checks the
# running server against its own OpenAPI document (/api/v1/openapi.json). Idempotent: a second
# run only confirms the pinned version is there. Without Python or pip it prints a notice and
# exits 0, and scripts/schemathesis.sh then skips.
#
#   scripts/install-schemathesis.sh          # from the repository root (or anywhere)
#
# The virtualenv is target/schemathesis-venv (gitignored); REFLINE_SCHEMATHESIS_VENV names
# another place.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${REFLINE_SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}"
# Pinned so a new release cannot change what the check means unnoticed.
packages=(schemathesis==4.32.5)

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "NOTICE: $python not found; Schemathesis will be skipped." >&2
  exit 0
fi
if ! "$python" -m pip --version >/dev/null 2>&1; then
  echo "NOTICE: pip is missing for $python; Schemathesis will be skipped." >&2
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  if ! "$python" -m venv "$venv"; then
    # Debian needs the python3-venv package for this.
    rm -rf "$venv"
    echo "NOTICE: could not create a virtualenv with $python; Schemathesis will be skipped." >&2
    exit 0
  fi
fi
if ! "$venv/bin/python" -m pip show --quiet schemathesis >/dev/null 2>&1 ||
  [ "$("$venv/bin/python" -m pip show schemathesis 2>/dev/null | sed -n 's/^Version: //p')" != "${packages[0]#*==}" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
fi
"$venv/bin/schemathesis" --version
