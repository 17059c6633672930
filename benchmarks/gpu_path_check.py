"""Check the GPU path of the reference recipe on a CUDA machine (not part of the CPU test suite).

    python benchmarks/gpu_path_check.py --tokenizer DIR [--out DIR]

Builds a small random Llama with the given tokenizer (no Hub access needed), then trains it with
recipes/llama-3.2-1b-colab.yaml through the CLI: 4-bit bitsandbytes weights, adamw_8bit, automatic bf16/fp16,
checkpoints; kills a second run with SIGKILL after a checkpoint and resumes it; compares the losses.
Prints one JSON report. Exits non-zero if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_small_llama(tokenizer_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(target)
    tokenizer.save_pretrained(target)


def train_args(model: Path, out: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "coverletter", "train", "--recipe", "llama-3.2-1b-colab",
            "--model_name_or_path", str(model), "--dataset_name", "data/finetome-sample.jsonl",
            "--output_dir", str(out), "--max_steps", str(steps), "--save_steps", "4", "--max_length", "512"]


def losses(out: Path) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in map(json.loads, (out / "loss_log.jsonl").read_text().splitlines())}


def loaded_model_facts(model: Path) -> dict:
    """Load the model the way training does and report what the recipe turned into on this GPU."""
    import torch

    from coverletter import model as model_lib
    from coverletter.config import parse_train_args

    _, run_args, model_args, training_args = parse_train_args(
        ["--recipe", "llama-3.2-1b-colab", "--model_name_or_path", str(model), "--output_dir", "/tmp/unused"])
    backend = model_lib.choose_backend(run_args.backend)
    changes = model_lib.adapt_to_device(model_args, training_args)
    lm, _, peft_config = model_lib.load_for_training(model_args, training_args, backend)
    kinds = {type(m).__name__ for m in lm.modules()}
    return {"backend": backend, "cpu_replacements": changes, "bf16": training_args.bf16, "fp16": training_args.fp16,
            "optim": str(getattr(training_args.optim, "value", training_args.optim)),
            "linear_4bit": "Linear4bit" in kinds, "device": str(next(lm.parameters()).device),
            "gpu": torch.cuda.get_device_name(0), "lora_r": peft_config.r if peft_config else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/gpu-check"))
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{os.environ.get('PYTHONPATH', '')}"}
    model = args.out / "small-llama"
    build_small_llama(args.tokenizer, model)
    report = {"facts": loaded_model_facts(model)}

    started = time.time()
    reference = args.out / "reference"
    done = subprocess.run(train_args(model, reference, 8), cwd=ROOT, env=env, capture_output=True, text=True)
    report["reference_seconds"] = round(time.time() - started, 1)
    report["reference_rc"] = done.returncode
    report["reference_log_tail"] = done.stderr[-1500:]
    if done.returncode == 0:
        report["reference_losses"] = losses(reference)

    resumed = args.out / "resumed"
    victim = subprocess.Popen(train_args(model, resumed, 8), cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not (resumed / "checkpoint-4" / "trainer_state.json").is_file() and time.time() < deadline:
        if victim.poll() is not None:
            break
        time.sleep(0.05)
    time.sleep(0.5)  # let trainer_state.json be written completely
    killed = victim.poll() is None
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    again = subprocess.run(train_args(model, resumed, 8), cwd=ROOT, env=env, capture_output=True, text=True)
    report["killed_mid_run"] = killed
    report["resume_rc"] = again.returncode
    report["resumed_from_log"] = [l for l in again.stderr.splitlines() if "resuming from" in l]
    if again.returncode == 0 and done.returncode == 0:
        got, expected = losses(resumed), report["reference_losses"]
        report["max_loss_difference"] = max(abs(got[s] - expected[s]) for s in expected)
    facts = report["facts"]
    checks = {
        "4-bit weights": facts["linear_4bit"],
        "adamw_8bit kept": facts["optim"] == "adamw_8bit",
        "mixed precision on": facts["bf16"] or facts["fp16"],
        "no CPU replacements": not facts["cpu_replacements"],
        "reference run ok": done.returncode == 0,
        "resume ok": again.returncode == 0 and bool(report["resumed_from_log"]),
        "losses match after resume (<=1e-2)": report.get("max_loss_difference", 1.0) <= 1e-2,
    }
    report["checks"] = checks
    print(json.dumps(report, indent=1, default=str))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
