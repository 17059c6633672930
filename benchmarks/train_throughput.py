"""Training throughput on this CPU: the project's CPU recipe versus plain TRL SFTTrainer defaults.

    python benchmarks/train_throughput.py [--steps 4] [--warmup 1]

Each variant trains the embedded SmolLM2-135M with LoRA on the same FineTome sample, in its own process (so peak
RSS is its own), for `warmup` + `steps` optimizer steps; only the `steps` after warm-up are timed. Throughput
counts non-padding tokens. Prints a table and each variant's ratio to the TRL-defaults baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "finetome-sample.jsonl"
COMMON = {"per_device_train_batch_size": 2, "gradient_accumulation_steps": 2, "max_length": 512,
          "learning_rate": 2e-4, "seed": 3407, "logging_steps": 1, "save_strategy": "no", "report_to": "none",
          "use_cpu": True, "bf16": False, "include_num_input_tokens_seen": "non_padding"}

# name -> (description, SFTConfig overrides, tokenize with the project's pipeline?)
VARIANTS = {
    "trl-defaults": ("plain SFTTrainer: padding, fp32, TRL's default activation checkpointing", {}, False),
    "no-checkpointing": ("+ activation checkpointing off", {"activation_checkpointing": False}, False),
    "bucketing": ("+ length-grouped batches (less padding)",
                  {"activation_checkpointing": False, "train_sampling_strategy": "group_by_length"}, True),
    "bf16-autocast": ("+ bf16 autocast (AVX-512-BF16)", {"activation_checkpointing": False, "bf16": True}, True),
    "bucketing-bf16": ("+ length-grouped batches + bf16 autocast",
                       {"activation_checkpointing": False, "train_sampling_strategy": "group_by_length", "bf16": True},
                       True),
    "project-fp32": ("the recipe with --bf16 false", None, True),
    "project-recipe": ("recipes/smollm2-135m-cpu.yaml", None, True),
}


def run_variant(name: str, steps: int, warmup: int) -> dict:
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from coverletter import data, model
    from coverletter.config import DataArguments, parse_train_args

    class StepClock(TrainerCallback):
        def __init__(self):
            self.marks = []

        def on_step_end(self, args, state, control, **kwargs):
            self.marks.append((time.perf_counter(), state.num_input_tokens_seen))

    _, overrides, project_data = VARIANTS[name]
    out = f"/tmp/coverletter-bench-{name}"
    if overrides is None:  # the recipe itself, with only the run length changed
        data_args, _, model_args, args = parse_train_args(
            ["--output_dir", out, "--max_steps", str(steps + warmup), "--save_strategy", "no",
             "--gradient_accumulation_steps", "2", *(["--bf16", "false"] if name == "project-fp32" else [])])
        model.adapt_to_device(model_args, args)  # as `coverletter train` does
        args.include_num_input_tokens_seen = "non_padding"
    else:
        data_args = DataArguments(dataset_name=str(SAMPLE))
        args = SFTConfig(output_dir=out, max_steps=steps + warmup, **{**COMMON, **overrides})
        model_args = None
    base = model.resolve_model_path("embedded:smollm2-135m-instruct")
    tokenizer = model.load_tokenizer(base)
    examples, report = data.load_clean(data_args)
    if project_data:
        train_set = data.tokenize_dataset(tokenizer, examples, report, data_args, args.max_length)
    else:  # TRL renders the chat template itself (and trains on every token)
        from datasets import Dataset

        train_set = Dataset.from_list([{"messages": e["messages"]} for e in examples])
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM

    lora = LoraConfig(r=16, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    lm = AutoModelForCausalLM.from_pretrained(base, dtype="float32")
    clock = StepClock()
    trainer = SFTTrainer(model=lm, args=args, train_dataset=train_set, processing_class=tokenizer,
                         peft_config=lora, callbacks=[clock])
    trainer.train()
    (t0, n0), (t1, n1) = clock.marks[warmup - 1], clock.marks[-1]
    return {"variant": name, "tokens_per_s": (n1 - n0) / (t1 - t0), "seconds_per_step": (t1 - t0) / steps,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "losses": [e["loss"] for e in trainer.state.log_history if "loss" in e]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # one variant, in a child process
    parser.add_argument("--only", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args()
    if args.variant:
        print("RESULT " + json.dumps(run_variant(args.variant, args.steps, args.warmup)), flush=True)
        return

    results = []
    for name in args.only:
        child = subprocess.run([sys.executable, __file__, "--variant", name, "--steps", str(args.steps),
                                "--warmup", str(args.warmup)], cwd=ROOT, capture_output=True, text=True)
        line = next((l for l in child.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"{name} failed:\n{child.stderr[-3000:]}")
        results.append(json.loads(line[len("RESULT "):]))
        print(f"done: {name}", file=sys.stderr, flush=True)

    baseline = results[0]["tokens_per_s"] if results[0]["variant"] == "trl-defaults" else None
    print("\n| variant | what | non-padding tokens/s | s/step | peak RSS MB | last loss | vs TRL defaults |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = f"{r['tokens_per_s'] / baseline:.2f}x" if baseline else "-"
        print(f"| {r['variant']} | {VARIANTS[r['variant']][0]} | {r['tokens_per_s']:.0f} | "
              f"{r['seconds_per_step']:.1f} | {r['peak_rss_mb']:.0f} | {r['losses'][-1]:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
