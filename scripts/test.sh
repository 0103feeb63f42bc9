#!/usr/bin/env bash
# Set up, then run the checks and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ruff check repair tests benchmarks models
mypy
python3 -m pytest -q
