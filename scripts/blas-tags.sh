#!/usr/bin/env bash
# Prints the build tags for the fastest BLAS on this machine.
#
# On CPUs with AVX2 and FMA (and AVX-512) the pure-Go build, with the blas
# package's own assembly kernels, is the faster (make bench times a training
# epoch with both; see bench/results/history.md). It prints nothing there.
# Elsewhere it prints "openblas" when cgo and libopenblas are available.
#
#   scripts/blas-tags.sh --available   "openblas" whenever it links, for
#                                       tests and benchmarks of that build
links_openblas() {
  [[ ${CGO_ENABLED:-1} != 0 ]] && command -v gcc >/dev/null 2>&1 &&
    echo 'int main(){return 0;}' | gcc -x c - -lopenblas -o /dev/null 2>/dev/null
}
if [[ ${1:-} == --available ]]; then
  links_openblas && echo openblas
  exit 0
fi
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then
  exit 0
fi
links_openblas && echo openblas
exit 0
