#!/usr/bin/env bash
# Install Debian's headless-capable Chromium and its WebDriver for the HTML report tests (skipped if already there).
# The click-path test drives them with selenium (a dev extra, from PyPI); without them those tests are skipped.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-browser: chromium or chromedriver is missing and we are not root; the report browser tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }; then
  echo "setup-browser: could not install chromium; the report browser tests will be skipped" >&2
fi
