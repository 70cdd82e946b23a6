#!/usr/bin/env bash
# Prints the build tags for the fastest BLAS this machine can link:
# "openblas" when cgo and libopenblas are available, nothing otherwise.
if [[ ${CGO_ENABLED:-1} != 0 ]] && command -v gcc >/dev/null 2>&1 &&
   echo 'int main(){return 0;}' | gcc -x c - -lopenblas -o /dev/null 2>/dev/null; then
  echo openblas
fi
