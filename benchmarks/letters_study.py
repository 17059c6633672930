"""Issue 23's study: template letters, written letters, or both, on the CPU recipe; then the chosen mixture over
three training seeds.

    python benchmarks/letters_study.py [--only NAME ...] [--study letters]

Each run trains the CPU recipe (recipes/smollm2-135m-cpu.yaml) with one override, exports its Q8_0 and evaluates it
through `coverletter evaluate` (the page's own path) on every evaluation profile (data/eval-profiles*.jsonl: skill
lists, résumés, full résumés): with the app's length steering at temperature 0 and at the page's temperature, and
the model alone (no steering) at temperature 0. Every report holds the rubric, the three template habits, invented
and borrowed facts, boilerplate, and the held-out losses on the written letters and on FineTome. Finished steps
are read back, not repeated, and a run stopped part way (a session's end) resumes from its last checkpoint: on a
CPU with AVX2 only a run takes longer than a session. Results: runs/STUDY/<name>/, and the table in
docs/experiments/STUDY_table.md, which holds every run of the study evaluated so far.
Run nothing else meanwhile: llama.cpp and training both want both cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from hparam_study import ROOT, DOCS, coverletter

from coverletter.letter import RESAMPLE_TEMPERATURE
from coverletter.runs import final_dir, gguf_dir, gguf_files

RUNS = {  # name: overrides of recipes/smollm2-135m-cpu.yaml
    "template": {"cover_letters": "synthetic"},
    "written": {"cover_letters": "written"},
    "both": {"cover_letters": "written+synthetic"},  # the written letters first: the mixture cut takes from the end
    "written-seed1": {"cover_letters": "written", "seed": 1},
    "written-seed2": {"cover_letters": "written", "seed": 2},
    # one renamed copy of each letter (data.augment): the fraction that keeps all ~870 beside the 72 FineTome rows,
    # in the same 240 steps (each letter's prose seen as often, under two names)
    "written-renamed": {"cover_letters": "written", "cover_letter_augment": 1, "cover_letter_fraction": 0.924},
}
SAMPLED = str(RESAMPLE_TEMPERATURE)  # Regenerate's (the page's default until session 13)
EVALUATIONS = {  # folder: evaluate's flags
    "eval": ["--temperature", "0"],
    "eval-page-temperature": ["--temperature", SAMPLED],
    "eval-alone": ["--temperature", "0", "--no_length_steering"],
}


def all_profiles(study: Path) -> Path:
    """The three evaluation sets in one file: 96 applications."""
    path = study / "eval-profiles-all.jsonl"
    path.write_text("".join(p.read_text() for p in sorted((ROOT / "data").glob("eval-profiles*.jsonl"))))
    return path


def evaluate(run: Path, model: str, profiles: Path) -> None:
    """The evaluations a run lacks."""
    for folder, flags in EVALUATIONS.items():
        if not (run / folder / "report.json").is_file():
            coverletter("evaluate", "--model", model, "--profiles", str(profiles), "--out", str(run / folder),
                        *flags, log=run / f"{folder}.log")


def reports(run: Path) -> dict:
    return {folder: json.loads((run / folder / "report.json").read_text()) for folder in EVALUATIONS}


def evaluated(run: Path) -> bool:
    """Whether every evaluation of a run has its report: a run of an earlier session, read back for the table."""
    return all((run / folder / "report.json").is_file() for folder in EVALUATIONS)


def train_and_export(run: Path, overrides: dict) -> None:
    run.mkdir(parents=True, exist_ok=True)
    flags = [item for key, value in overrides.items() for item in (f"--{key}", str(value))]
    if not final_dir(run).is_dir():
        coverletter("train", "--output_dir", str(run), *flags, log=run / "train.log")  # resumes a stopped run
    if not gguf_files(gguf_dir(run)):
        coverletter("export", "--run", str(run), "--quant", "q8_0", log=run / "export.log")


def row(name: str, found: dict) -> str:
    app, warm, alone = found["eval"], found["eval-page-temperature"], found["eval-alone"]
    return (f"| {name} | {app['pass_rate']:.0%} | {warm['pass_rate']:.0%} | {alone['pass_rate']:.0%} | "
            f"{app['habit_free_rate']:.0%} | {alone['habit_free_rate']:.0%} | "
            f"{app['invented_fact_share']:.0%} / {app['borrowed_claim_share']:.0%} | {app['boilerplate_share']:.2f} | "
            f"{app['written_letters_loss']:.3f} | {app['heldout_loss']:.3f} |")


HEAD = ["| run | rubric, app (T=0) | app (T=0.7) | model alone | habit-free, app | habit-free, alone | "
        "invented / borrowed | boilerplate | loss, written letters | loss, FineTome |",
        "|---|---|---|---|---|---|---|---|---|---|"]


def seeds_summary(results: dict) -> str:
    """Mean and spread (min-max) over the written runs' seeds of the figures that move."""
    seeded = [found for name, found in results.items() if name.startswith("written")]
    if len(seeded) < 2:
        return ""
    figures = {"rubric, app": ("eval", "pass_rate"), "rubric, alone": ("eval-alone", "pass_rate"),
               "habit-free, alone": ("eval-alone", "habit_free_rate"),
               "loss, written letters": ("eval", "written_letters_loss")}
    lines = [f"Over {len(seeded)} seeds of the written mixture:", ""]
    for label, (folder, key) in figures.items():
        values = [found[folder][key] for found in seeded]
        lines.append(f"- {label}: mean {statistics.mean(values):.3f}, from {min(values):.3f} to {max(values):.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(RUNS), help="these runs only")
    parser.add_argument("--study", default="letters", help="folder under runs/ for this study's runs")
    parser.add_argument("--base", action="store_true", help="also the base model, as Q8_0, without an adapter")
    args = parser.parse_args()
    study = ROOT / "runs" / args.study
    study.mkdir(parents=True, exist_ok=True)
    profiles = all_profiles(study)
    names = args.only or list(RUNS)
    for name in names:
        print(f"== {name}", flush=True)
        train_and_export(study / name, RUNS[name])
        evaluate(study / name, str(study / name), profiles)
    if args.base:
        from coverletter.export import base_gguf

        evaluate(study / "base", str(base_gguf("embedded:smollm2-135m-instruct", study / "base")), profiles)
    results = {name: reports(study / name) for name in [*RUNS, "base"] if evaluated(study / name)}  # with earlier runs
    lines = HEAD + [row(name, found) for name, found in results.items()]
    text = "\n".join(lines) + "\n\n" + seeds_summary(results) + "\n"
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / f"{args.study}_table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
