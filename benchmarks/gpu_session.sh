#!/usr/bin/env bash
# On the device machine: install one bundle of carried wheels, then run the GPU path check; the report goes to $OUT.
#   device run, carry [".whl/train"]:    bash benchmarks/gpu_session.sh train
#   then at once, carry [".whl/unsloth"]: bash benchmarks/gpu_session.sh unsloth --backend unsloth
# The second call needs the first's .site (kept only while the machine stays warm: 30 s after a call).
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=$1; shift
if [ "$bundle" = unsloth ] && [ ! -d .site/trl ]; then
  echo "no .site/trl: the machine went cold after the train bundle; run the train bundle first" >&2; exit 2
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target .site ".whl/$bundle"/*.whl || exit
export PYTHONPATH="$PWD/.site" PYTHONUNBUFFERED=1 COVERLETTER_CACHE=/tmp/coverletter-cache
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ "$bundle" = unsloth ] && python3 -c "import unsloth; print('unsloth', unsloth.__version__, 'imported')" 2>&1 | tail -3
python3 benchmarks/gpu_path_check.py --out "/tmp/gpu-check-$bundle" "$@" > "$OUT/gpu-check-$bundle.json" 2> "$OUT/gpu-check-$bundle.log"
rc=$?
cat "$OUT/gpu-check-$bundle.json"; tail -20 "$OUT/gpu-check-$bundle.log"
exit $rc
