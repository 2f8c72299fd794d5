#!/usr/bin/env bash
# Install Debian's headless-capable Chromium (+ chromedriver) for the browser end-to-end test
# (tests/test_ui_browser.py). Does nothing when /usr/bin/chromium is already there.
# Needs root (or sudo) and apt; CI runs it before `bash .ci/run`.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium chromium-driver
/usr/bin/chromium --version || true
