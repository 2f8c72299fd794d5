#!/usr/bin/env bash
# Create .venv and install dcpower with its pinned dependencies (pyproject.toml is the one place
# versions are pinned). Idempotent. `--with-browser` also installs Debian's Chromium for the
# browser end-to-end test of the UI (needs root/apt; the test skips without it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,ui,dev,cluster]"
if [ "${1:-}" = "--with-browser" ]; then
  bash scripts/install_chromium.sh || echo "warning: Chromium could not be installed; the browser test will skip" >&2
fi
