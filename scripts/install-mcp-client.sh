#!/usr/bin/env bash
# Installs the official MCP Python SDK (`mcp` from PyPI) into a virtualenv at target/mcp-venv
# (gitignored) for the MCP client test (crates/app/tests/it/mcp_sdk.rs), which runs
# scripts/mcp_client.py against a real `refline serve`: it lists the tools and runs the seed's flow
# over Streamable HTTP in protocol 2026-07-28 and 2025-06-18, and over stdio through `refline mcp`.
# mcp 2.x is the first SDK line that speaks 2026-07-28. Without the virtualenv the test prints a
# notice and is skipped.
#
#   scripts/install-mcp-client.sh            # from the repository root (or anywhere)
#
# Set REFLINE_MCP_PYTHON to use another interpreter that has the package instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/mcp-venv"
# Pinned so a new SDK release cannot change what the test speaks unnoticed.
packages=(mcp==2.3.0)

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "NOTICE: $python not found; the MCP client SDK test will be skipped." >&2
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$root/target"
  if ! "$python" -m venv "$venv"; then
    # Debian needs the python3-venv package for this.
    rm -rf "$venv"
    echo "NOTICE: could not create a virtualenv with $python; the MCP client SDK test will be skipped." >&2
    exit 0
  fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
"$venv/bin/python" -c "import mcp.client.streamable_http"
