#!/usr/bin/env bash
# One GGUF under two commits of this project, side by side in one run: the rubric (`coverletter evaluate`) and the
# app benchmark (benchmarks/app_bench.py), each under the project's and the Space's environment.
#
#   bash benchmarks/before_after.sh REV GGUF [SPACE_PYTHON]     # e.g. REV=974e9dc GGUF=runs/demo/gguf/x.Q8_0.gguf
#
# REV is checked out in a temporary worktree and run with this checkout's .venv; SPACE_PYTHON (default
# .venv-space/bin/python, made from huggingface/requirements.txt only) serves the app for the memory figure.
# Results: runs/before-after/{before,after}/ (eval/report.json, bench-project.txt, bench-space.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$1 gguf=$(realpath "$2") space=$(realpath -s "${3:-.venv-space/bin/python}")  # -s: a venv is its symlink
python=$(realpath -s .venv/bin/python)
out=$(realpath -m runs/before-after)
tree=$(mktemp -d)
git worktree add -q --detach "$tree" "$rev"
trap 'git worktree remove --force "$tree"' EXIT
mkdir -p "$out/before" "$out/after"

measure() {  # $1: a checkout, $2: where its results go
  (cd "$1" && PYTHONPATH="$1/src" "$python" -m coverletter evaluate --model "$gguf" --out "$2/eval" \
    > "$2/eval.txt" 2>&1)
  for env in project space; do
    server=$python
    [ "$env" = space ] && server=$space
    (cd "$1" && PYTHONPATH="$1/src" "$python" benchmarks/app_bench.py --gguf "$gguf" --server-python "$server" \
      > "$2/bench-$env.txt" 2>&1)
  done
}
measure "$tree" "$out/before"
measure "$PWD" "$out/after"
for side in before after; do
  echo "== $side"
  tail -n 1 "$out/$side/eval.txt"
  grep -h "app / raw\|peak RSS\|time to first\|raw llama-cpp-python |" "$out/$side"/bench-*.txt
done
