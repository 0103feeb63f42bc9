#!/usr/bin/env bash
# Set up, then run the checks and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian's chromium, for the tests that open the HTML report in a real headless browser
bash scripts/setup-browser.sh
ruff check repair tests benchmarks models
mypy
python3 -m pytest -q
