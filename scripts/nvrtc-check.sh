#!/usr/bin/env bash
# Compiles the generated CUDA kernels with NVRTC and checks them with ptxas, without a GPU: installs the
# PyPI wheels (NVRTC, ptxas) into a cache folder with .ci/gpu-wheels.sh, then runs the test that
# compiles every operation and reduction in one program and prints registers and spills.
#   scripts/nvrtc-check.sh            # KEOPS_CUDA_WHEELS overrides the cache folder
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(bash .ci/gpu-wheels.sh | tail -n 1)
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "nvrtc-check: no NVRTC/ptxas wheels (see the message above)" >&2
    exit 1
fi
export KEOPS_NVRTC_DIR="$dir"
export LD_LIBRARY_PATH="$dir/nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec cargo test -p keops-gpu-kernels --test nvrtc -- --nocapture "$@"
