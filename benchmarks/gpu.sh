#!/usr/bin/env bash
# The GPU benchmarks in one command (docs/BENCHMARKS.md, "GPU"): the model table of every paper net beside
# its PyTorch peers, bfloat16 and float32, and the op table, within an 8-minute budget; JSON and markdown
# under --out (default $OUT when set, else benchmarks/results/gpu/).
#
#   benchmarks/gpu.sh                 # a bare GPU host: only the GPU image's packages, nothing installed
#   benchmarks/gpu.sh --resume        # measure what the last run left out (budget), into the same files
#   benchmarks/gpu.sh --help          # every option (python -m benchmarks.gpu)
#
# PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -u -m benchmarks.gpu "$@"
