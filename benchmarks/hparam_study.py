"""Hyper-parameter study on the CPU recipe: learning rate, LoRA rank and data mixture, one factor at a time.

    python benchmarks/hparam_study.py [--only NAME ...] [--profiles data/eval-profiles.jsonl] [--study study]

Every run: `coverletter train` (the CPU recipe, its seed and step count: the same number of examples, and
tokens reported), `coverletter export --quant q8_0`, `coverletter evaluate` on the held-out profiles. The base
model is converted to Q8_0 the same way, without an adapter, so both sides are compared in the same format.
Results go to runs/STUDY/ (one folder per run: eval/ and eval-unsteered/) and the table and curves to
docs/experiments/STUDY_table.md and STUDY_loss_curves.png (`--study` names one study, e.g. per generator).
Each model is evaluated twice: as the app writes (with its length steering) and the model alone
(`--no_length_steering`). A run's finished training, export or evaluation is read back, not repeated, so the
study can be stopped and continued. Run nothing else meanwhile: llama.cpp's threads slow down badly when they share
the cores (a letter took 2 minutes instead of 3 seconds next to a training process).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs/experiments"
GRID = {  # name: overrides of recipes/smollm2-135m-cpu.yaml (lr 3e-3, LoRA r=16, 75% cover letters)
    "center": {},
    "letters-100%": {"cover_letter_fraction": 1.0},
    "letters-50%": {"cover_letter_fraction": 0.5},
    "lr-1e-3": {"learning_rate": 1e-3},
    "rank-32": {"lora_r": 32, "lora_alpha": 32},
    "rank-8": {"lora_r": 8, "lora_alpha": 8},
    "steps-120": {"max_steps": 120},  # three times the budget: the one run here with more tokens
}


def coverletter(*args: str, log: Path) -> None:
    with log.open("a") as out:  # a resumed step adds to its log
        done = subprocess.run([sys.executable, "-m", "coverletter", *args], cwd=ROOT, stdout=out,
                              stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"coverletter {args[0]} failed; see {log}")


def run_one(study: Path, name: str, overrides: dict, profiles: str) -> dict:
    run = study / name
    run.mkdir(parents=True, exist_ok=True)
    flags = [item for key, value in overrides.items() for item in (f"--{key}", str(value))]
    from coverletter.runs import final_dir, gguf_dir, gguf_files

    if not final_dir(run).is_dir():  # a run stopped after training is evaluated, not trained again
        coverletter("train", "--output_dir", str(run), *flags, log=run / "train.log")  # resumes a stopped run
    if not gguf_files(gguf_dir(run)):
        coverletter("export", "--run", str(run), "--quant", "q8_0", log=run / "export.log")
    losses = [json.loads(line) for line in (run / "loss_log.jsonl").read_text().splitlines()]
    info = json.loads((run / "data_report.json").read_text())
    return {"name": name, "overrides": overrides, "losses": [x["loss"] for x in losses if "loss" in x],
            "training_rows": info["kept"], **scores(run, str(run), profiles)}


def scores(out: Path, model: str, profiles: str) -> dict:
    """The rubric with the app's length steering (out/eval) and without it (out/eval-unsteered: the model alone),
    each evaluated once and read back afterwards."""
    reports = {}
    for folder, flags in (("eval", []), ("eval-unsteered", ["--no_length_steering"])):
        if not (out / folder / "report.json").is_file():
            coverletter("evaluate", "--model", model, "--profiles", profiles, "--out", str(out / folder), *flags,
                        log=out / f"{folder}.log")
        reports[folder] = json.loads((out / folder / "report.json").read_text())
    steered, alone = reports["eval"], reports["eval-unsteered"]
    return {"pass_rate": steered["pass_rate"], "rule_pass_rates": steered["rule_pass_rates"],
            "heldout_loss": steered["heldout_loss"], "pass_rate_unsteered": alone["pass_rate"],
            "length_unsteered": alone["rule_pass_rates"]["length"]}


def tokens_trained(run: Path) -> int:
    """Tokens seen in training (TRL's num_tokens), from the last checkpoint's trainer state."""
    from coverletter.runs import latest_complete_checkpoint

    state = json.loads((latest_complete_checkpoint(run) / "trainer_state.json").read_text())
    return int(max(x.get("num_tokens", 0) for x in state["log_history"]))


def evaluate_base(study: Path, profiles: str) -> dict:
    """The base model as Q8_0 through the same converter and quantizer as every export, scored the same way."""
    from coverletter.export import base_gguf

    out = study / "base"
    return {"name": "base", **scores(out, str(base_gguf("embedded:smollm2-135m-instruct", out)), profiles)}


def write_docs(study: Path, base: dict, runs: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    DOCS.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for run in runs:
        ax.plot(range(1, len(run["losses"]) + 1), run["losses"], label=run["name"], linewidth=1.2)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (assistant tokens)")
    ax.set_title("CPU recipe: loss curves of the study")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(DOCS / f"{study.name}_loss_curves.png")
    plt.close(fig)

    rules = list(base["rule_pass_rates"])
    head = ("| run | changed | rows | tokens | loss, last 10 steps | pass rate | vs base | model alone: pass rate | "
            "model alone: length | held-out loss | vs base | " + " | ".join(rules) + " |")
    lines = [head, "|" + "---|" * (11 + len(rules))]
    lines.append(f"| base (Q8_0) | no adapter | - | - | - | {base['pass_rate']:.0%} | - | "
                 f"{base['pass_rate_unsteered']:.0%} | {base['length_unsteered']:.0%} | "
                 f"{base['heldout_loss']:.3f} | - | "
                 + " | ".join(f"{base['rule_pass_rates'][r]:.0%}" for r in rules) + " |")
    for run in runs:
        changed = ", ".join(f"{k}={v}" for k, v in run["overrides"].items()) or "recipe as is"
        lines.append(
            f"| {run['name']} | {changed} | {run['training_rows']} | {tokens_trained(study / run['name']):,} | "
            f"{sum(run['losses'][-10:]) / len(run['losses'][-10:]):.3f} | "
            f"{run['pass_rate']:.0%} | {100 * (run['pass_rate'] - base['pass_rate']):+.0f} pts | "
            f"{run['pass_rate_unsteered']:.0%} | {run['length_unsteered']:.0%} | {run['heldout_loss']:.3f} | "
            f"{100 * (run['heldout_loss'] / base['heldout_loss'] - 1):+.1f}% | "
            + " | ".join(f"{run['rule_pass_rates'][r]:.0%}" for r in rules) + " |")
    (DOCS / f"{study.name}_table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(GRID), help="run these grid points only")
    parser.add_argument("--profiles", default="data/eval-profiles.jsonl")
    parser.add_argument("--study", default="study", help="folder under runs/ for this study's runs")
    args = parser.parse_args()
    study = ROOT / "runs" / args.study
    base = evaluate_base(study, args.profiles)
    runs = []
    for name in args.only or GRID:
        print(f"== {name}", flush=True)
        runs.append(run_one(study, name, GRID[name], args.profiles))
        print(f"   pass rate {runs[-1]['pass_rate']:.0%}, held-out loss {runs[-1]['heldout_loss']:.3f}", flush=True)
    write_docs(study, base, runs)


if __name__ == "__main__":
    main()
