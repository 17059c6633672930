"""Check the reference recipe's GPU path on a CUDA machine (not part of the CPU test suite).

    python benchmarks/gpu_path_check.py [--model embedded:llama-3.2-1b-shape] [--backend transformers|unsloth]

Trains the Llama-3.2-1B stand-in (coverletter.standin: the real architecture and tokenizer, random weights; no
Hub access needed) with recipes/llama-3.2-1b-colab.yaml through the CLI: 4-bit weights, adamw_8bit, automatic
bf16/fp16, a checkpoint every 4 steps. Then kills a second run with SIGKILL once checkpoint-4 is complete,
resumes it, and compares the losses. Reports seconds per step and peak GPU memory as training logs them. Prints
one JSON report; exits non-zero if a check fails. On a CPU (`--model embedded:llama-3-tiny`) the flow runs and
the GPU checks fail, which is how the script itself is tried without a GPU. benchmarks/gpu_session.sh runs it on
the device machine.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from coverletter import runs  # noqa: E402

RECIPE = "llama-3.2-1b-colab"
CHECKPOINT_EVERY = 4
SPEED = re.compile(r"trained (\d+) steps in ([0-9.]+) s \(([0-9.]+) s/step\)(?:; peak GPU memory ([0-9.]+) GiB)?")
VERSIONS = ("torch", "transformers", "trl", "peft", "datasets", "bitsandbytes", "unsloth", "unsloth_zoo")


def train_args(model: str, backend: str, out: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "coverletter", "train", "--recipe", RECIPE, "--model_name_or_path", model,
            "--backend", backend, "--dataset_name", "data/finetome-sample.jsonl",
            "--cover_letter_samples", "400",  # fewer letters to tokenize: a quicker start, the same steps
            "--output_dir", str(out), "--max_steps", str(steps), "--save_steps", str(CHECKPOINT_EVERY)]


def losses(out: Path) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in map(json.loads, (out / "loss_log.jsonl").read_text().splitlines())}


def speed(log: str) -> dict:
    found = SPEED.search(log)
    if not found:
        return {}
    steps, seconds, per_step, peak = found.groups()
    return {"steps": int(steps), "seconds": float(seconds), "seconds_per_step": float(per_step),
            "peak_gpu_memory_gib": float(peak) if peak else None}


def installed_versions() -> dict:
    versions = {}
    for name in VERSIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def loaded_model_facts(model: str, backend_wanted: str) -> dict:
    """Load the model the way training does and report what the recipe turned into on this machine."""
    from coverletter import model as model_lib

    model_lib.import_unsloth_if_usable()  # before transformers, as the CLI does
    import torch

    from coverletter.config import parse_train_args

    _, run_args, model_args, training_args = parse_train_args(
        ["--recipe", RECIPE, "--model_name_or_path", model, "--backend", backend_wanted, "--output_dir", "/tmp/unused"])
    backend = model_lib.choose_backend(run_args.backend)
    changes = model_lib.adapt_to_device(model_args, training_args)
    lm, _, peft_config = model_lib.load_for_training(model_args, training_args, backend)
    kinds = {type(m).__name__ for m in lm.modules()}
    facts = {"backend": backend, "cpu_replacements": changes, "bf16": training_args.bf16, "fp16": training_args.fp16,
             "optim": str(getattr(training_args.optim, "value", training_args.optim)),
             "linear_4bit": "Linear4bit" in kinds, "parameters": sum(p.numel() for p in lm.parameters()),
             "device": str(next(lm.parameters()).device),
             "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
             "lora_r": peft_config.r if peft_config else getattr(lm, "peft_config", {}).get("default").r}
    del lm
    return facts


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)


def killed_after_first_checkpoint(args: list[str], env: dict, out: Path) -> bool:
    """Start the run and SIGKILL it once checkpoint-4 is complete; True if it was still running then."""
    victim = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    first = out / f"checkpoint-{CHECKPOINT_EVERY}"
    while not runs.is_complete_checkpoint(first) and victim.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    alive = victim.poll() is None
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    return alive and not (out / "final").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="embedded:llama-3.2-1b-shape")
    parser.add_argument("--backend", default="transformers", choices=["transformers", "unsloth"])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("/tmp/gpu-check"))
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1"}
    report = {"model": args.model, "recipe": RECIPE, "versions": installed_versions(),
              "facts": loaded_model_facts(args.model, args.backend)}

    reference = args.out / "reference"
    done = run(train_args(args.model, args.backend, reference, args.steps), env)
    report["reference"] = {"rc": done.returncode, **speed(done.stderr)}
    if done.returncode:
        report["reference"]["log_tail"] = done.stderr[-2000:]
    else:
        report["reference"]["losses"] = losses(reference)

    resumed = args.out / "resumed"
    command = train_args(args.model, args.backend, resumed, args.steps)
    report["killed_mid_run"] = killed_after_first_checkpoint(command, env, resumed)
    again = run(command, env)
    report["resumed"] = {"rc": again.returncode, **speed(again.stderr),
                         "from": [line for line in again.stderr.splitlines() if "resuming from" in line]}
    if again.returncode == 0 and done.returncode == 0:
        got, expected = losses(resumed), report["reference"]["losses"]
        report["max_loss_difference"] = max(abs(got[s] - expected[s]) for s in expected)
    facts = report["facts"]
    report["checks"] = checks = {
        "4-bit weights": facts["linear_4bit"],
        "adamw_8bit kept": facts["optim"] == "adamw_8bit",
        "mixed precision on": facts["bf16"] or facts["fp16"],
        "no CPU replacements": not facts["cpu_replacements"],
        f"backend {args.backend}": facts["backend"] == args.backend,
        "reference run ok": done.returncode == 0,
        "killed after a checkpoint": report["killed_mid_run"],
        "resume ok": again.returncode == 0 and bool(report["resumed"]["from"]),
        "losses match after resume (<=1e-2)": report.get("max_loss_difference", 1.0) <= 1e-2,
    }
    print(json.dumps(report, indent=1, default=str))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
