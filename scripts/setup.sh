#!/usr/bin/env bash
# Installs what `make run` or `make test` needs, where it is missing.
#   scripts/setup.sh run    the dataset and OpenBLAS
#   scripts/setup.sh test   also numpy, sklearn, Chromium, Jupyter and Node's apache-arrow
#   scripts/setup.sh bench  also PyTorch
# Debian packages are installed with apt-get when running as root;
# otherwise the script says what is missing and goes on.
set -euo pipefail
what=${1:-run}
cd "$(dirname "$0")/.."

pkgs=()
need() { dpkg -s "$1" >/dev/null 2>&1 || pkgs+=("$1"); }
need dataset-fashion-mnist
need libopenblas-dev
if [[ $what == test || $what == bench ]]; then
  need python3-numpy
  need python3-sklearn
  need chromium
  need jupyter-nbconvert
  need python3-ipykernel
  command -v node >/dev/null 2>&1 || need nodejs
  command -v npm >/dev/null 2>&1 || need npm
  need slurm-wlm
  need munge
fi
if [[ $what == bench ]]; then
  need python3-torch
fi

if ((${#pkgs[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (install them as root): ${pkgs[*]}" >&2
  fi
fi

if [[ $what == test ]] && command -v npm >/dev/null 2>&1 && [[ ! -d interop/node_modules/apache-arrow ]]; then
  npm ci --prefix interop --no-audit --no-fund --loglevel=error
fi
