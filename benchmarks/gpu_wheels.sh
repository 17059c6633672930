#!/usr/bin/env bash
# Download the wheels of benchmarks/gpu-wheels.txt into .whl/BUNDLE (git-ignored) for the device machine.
#   bash benchmarks/gpu_wheels.sh            then, with the device tool: benchmarks/gpu_session.sh
set -euo pipefail
cd "$(dirname "$0")/.."
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
for bundle in train unsloth; do
  rm -rf ".whl/$bundle"
  grep "^$bundle " benchmarks/gpu-wheels.txt | cut -d' ' -f2 > "/tmp/gpu-wheels-$bundle.txt"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d ".whl/$bundle" -r "/tmp/gpu-wheels-$bundle.txt"
  echo "$bundle: $(ls ".whl/$bundle" | wc -l) wheels, $(du -sm ".whl/$bundle" | cut -f1) MB"
done
