#!/usr/bin/env bash
# Installs NVRTC and ptxas from the PyPI wheels (no GPU, no CUDA toolkit needed) into a cache folder and
# prints that folder as the last line of stdout: point KEOPS_NVRTC_DIR at it for
# `cargo test -p keops-gpu-kernels --test nvrtc`. Idempotent (a second run reuses the folder). Never
# fails the build: without pip or the registry it says why on stderr and exits 0 printing no folder.
#
#   KEOPS_CUDA_WHEELS   cache folder (default: $HOME/.cache/keops-cuda-wheels)
set -u

version=13.0.88
dir="${KEOPS_CUDA_WHEELS:-${HOME:-/tmp}/.cache/keops-cuda-wheels}"
lib="$dir/nvidia/cu13/lib"
ptxas="$dir/nvidia/cu13/bin/ptxas"
stamp="$dir/.keops-wheels-$version"

have() {
    [ -f "$stamp" ] && [ -x "$ptxas" ] && ls "$lib"/libnvrtc.so* >/dev/null 2>&1
}

if ! have; then
    pip=""
    for p in pip3 pip; do
        if command -v "$p" >/dev/null 2>&1; then pip="$p"; break; fi
    done
    if [ -z "$pip" ] && command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
        pip="python3 -m pip"
    fi
    if [ -z "$pip" ]; then
        echo "gpu-wheels: pip not found: no NVRTC/ptxas (the NVRTC test will be skipped)" >&2
        exit 0
    fi
    tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$(dirname "$dir")"
    echo "gpu-wheels: installing nvidia-cuda-nvrtc==$version nvidia-cuda-nvcc==$version into $dir" >&2
    if ! $pip install --quiet --disable-pip-version-check --no-deps --target "$tmp" \
        "nvidia-cuda-nvrtc==$version" "nvidia-cuda-nvcc==$version" >&2; then
        rm -rf "$tmp"
        echo "gpu-wheels: pip install failed: no NVRTC/ptxas (the NVRTC test will be skipped)" >&2
        exit 0
    fi
    # Swap the finished install in whole, so an interrupted run never leaves a half-filled cache.
    rm -rf "$dir"
    mv "$tmp" "$dir"
    touch "$stamp"
    if ! have; then
        echo "gpu-wheels: the wheels did not contain $lib/libnvrtc.so* and $ptxas" >&2
        exit 0
    fi
fi
echo "$dir"
