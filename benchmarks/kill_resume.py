"""SIGKILL in the middle of a training run, the same command again, and the losses of an uninterrupted run.

    python benchmarks/kill_resume.py [--recipe llama-3.2-1b-shape-cpu] [--steps 3] [--kill_after 2] [--out DIR]

1. The recipe trains `steps` optimizer steps uninterrupted, with a checkpoint every step: seconds per step (from
   the moments each step's checkpoint is complete), non-padding tokens per second, the process's peak RSS.
2. The same run is started again in another folder and killed with SIGKILL as soon as checkpoint-`kill_after` is
   complete; the same command then resumes it. Its per-step losses are compared with the first run's.
What the tests check on tiny models (tests/test_train.py), at the size of the recipe's model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(recipe: str, out: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "coverletter", "train", "--recipe", recipe, "--output_dir", str(out),
            "--max_steps", str(steps), "--save_steps", "1", "--save_total_limit", str(steps + 1),
            "--include_num_input_tokens_seen", "true"]  # batch 1: no padding


def logged_steps(run: Path) -> list[dict]:
    log = run / "loss_log.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def train(recipe: str, out: Path, steps: int, kill_after: int | None = None) -> tuple[dict[int, float], int]:
    """Run (or kill) one training command; the moment each step's checkpoint was complete; its exit code."""
    process = subprocess.Popen(command(recipe, out, steps), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=(out.parent / f"{out.name}.log").open("a"))
    seen: dict[int, float] = {}
    while process.poll() is None:
        for step in range(1, steps + 1):
            if (out / f"checkpoint-{step}" / "trainer_state.json").is_file():
                seen.setdefault(step, time.perf_counter())
        if kill_after and (out / f"checkpoint-{kill_after}" / "trainer_state.json").is_file():
            time.sleep(1)  # trainer_state.json is written last: the checkpoint is complete
            os.kill(process.pid, signal.SIGKILL)
        time.sleep(0.2)
    return seen, process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="llama-3.2-1b-shape-cpu")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--kill_after", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="kill-resume-"))
    out.mkdir(parents=True, exist_ok=True)
    reference, resumed = out / "reference", out / "resumed"

    started = time.perf_counter()
    moments, code = train(args.recipe, reference, args.steps)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert code == 0, f"the reference run failed: see {out}/reference.log"
    state = json.loads((reference / f"checkpoint-{args.steps}" / "trainer_state.json").read_text())
    tokens = max(e.get("num_input_tokens_seen", 0) for e in state["log_history"])
    steps = sorted(moments)
    per_step = (moments[steps[-1]] - moments[steps[0]]) / (len(steps) - 1)
    first_tokens = next(e["num_input_tokens_seen"] for e in state["log_history"] if e.get("step") == 1)

    _, killed = train(args.recipe, resumed, args.steps, kill_after=args.kill_after)
    _, code = train(args.recipe, resumed, args.steps)
    assert code == 0, f"the resumed run failed: see {out}/resumed.log"
    expected = {e["step"]: e["loss"] for e in logged_steps(reference)}
    got = {e["step"]: e["loss"] for e in logged_steps(resumed)}

    print(f"\nrecipe {args.recipe}, {args.steps} steps, {os.cpu_count()} cores; folders in {out}\n")
    print(f"uninterrupted: {total:.0f} s in all (start-up included); {per_step:.1f} s per step after the first; "
          f"{tokens:,} non-padding tokens, {(tokens - first_tokens) / (moments[steps[-1]] - moments[steps[0]]):.1f} "
          f"non-padding tokens/s after the first step; peak RSS {peak_mb:,.0f} MB")
    print(f"killed with SIGKILL after checkpoint-{args.kill_after} (exit code {killed}), then the same command")
    print("| step | uninterrupted loss | killed and resumed | difference |")
    print("|---:|---:|---:|---:|")
    for step in sorted(expected):
        print(f"| {step} | {expected[step]:.6f} | {got.get(step, float('nan')):.6f} | "
              f"{abs(got.get(step, float('nan')) - expected[step]):.2e} |")


if __name__ == "__main__":
    main()
