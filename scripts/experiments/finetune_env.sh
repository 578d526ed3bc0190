#!/usr/bin/env bash
# finetune_env.sh - the venv of the fine-tuning experiment
# (scripts/experiments/finetune_ceiling.py): PyTorch, safetensors and
# tokenizers from PyPI, versions pinned, every wheel's hash checked
# (scripts/experiments/requirements-finetune.txt).  Not part of the product
# or its training path: casie trains in C.
#   bash scripts/experiments/finetune_env.sh [VENV]   (default build/ft-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:-build/ft-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check --require-hashes \
  -r scripts/experiments/requirements-finetune.txt
"$venv/bin/python" -c 'import torch, safetensors, tokenizers; print("finetune_env: torch", torch.__version__)'
