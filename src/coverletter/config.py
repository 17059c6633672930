"""Recipes: YAML files of arguments, parsed by TRL's own parser into dataclasses.

A recipe sets any field of `DataArguments`, `RunArguments`, TRL's `ModelConfig` and TRL's `SFTConfig` for
training, and of `ExportArguments` for the export; any of them can be overridden on the command line
(`--learning_rate 1e-4`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from .errors import UserError

RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"
DEFAULT_RECIPE = "smollm2-135m-cpu"


@dataclass
class DataArguments:
    dataset_name: str = field(
        default="mlabonne/FineTome-100k",
        metadata={"help": "Hub dataset id, or a local .jsonl/.json/.parquet file in the ShareGPT schema."},
    )
    dataset_split: str = field(default="train", metadata={"help": "Split to train on (Hub datasets)."})
    max_samples: int | None = field(default=None, metadata={"help": "Keep only the first N clean rows."})
    min_score: float | None = field(default=None, metadata={"help": "Drop rows whose `score` is below this."})
    dedupe: bool = field(default=True, metadata={"help": "Drop exact duplicate conversations."})
    min_response_chars: int = field(default=1, metadata={"help": "Drop rows whose shortest answer is shorter."})
    max_conversation_chars: int | None = field(
        default=None, metadata={"help": "Drop rows whose conversation text is longer than this."}
    )
    near_dedupe_threshold: float | None = field(
        default=None,
        metadata={"help": "Drop conversations whose word-shingle Jaccard similarity to an earlier kept one is at "
                          "least this (e.g. 0.8); unset: off."},
    )
    cover_letter_columns: str | None = field(
        default=None,
        metadata={"help": "Cover-letter dataset columns for the form's fields, e.g. 'name=Applicant Name,"
                          "skills=Skillsets+Qualifications,...' (+ joins columns); unset: rows in the FineTome schema are "
                          "taken as they are, other tables read in the ShashiVish/cover-letter-dataset layout."},
    )
    response_template: str | None = field(
        default=None,
        metadata={"help": "Text that opens an assistant turn in the rendered chat; detected from the template if unset."},
    )
    end_of_turn: str | None = field(
        default=None,
        metadata={"help": "Text that closes an assistant turn; detected from the template if unset."},
    )
    cover_letters: str | None = field(
        default=None,
        metadata={"help": "Cover letters to mix in: 'written' (data/letters/, coverletter.data.letters), 'synthetic' "
                          "(coverletter.synthetic), a Hub dataset id or a local "
                          "file (FineTome schema, or any layout with cover_letter_columns), or several joined by '+' "
                          "('synthetic+ShashiVish/cover-letter-dataset'); unset: none."},
    )
    cover_letter_samples: int = field(default=2000,
                                      metadata={"help": "How many cover letters to generate or take, per source."})
    cover_letters_faithful_only: bool = field(
        default=True,
        metadata={"help": "Drop table rows whose letter states a number, credential or name its row lacks "
                          "(coverletter.rubric): they teach a model to invent facts."},
    )
    cover_letter_fraction: float = field(
        default=0.5,
        metadata={"help": "Share of cover letters in the training mixture (0.75 = 3 letters per FineTome "
                          "conversation); the larger source is cut to fit."},
    )
    cover_letter_seed: int = field(default=0, metadata={"help": "Seed of the synthetic cover-letter generator."})


@dataclass
class RunArguments:
    backend: str = field(
        default="auto",
        metadata={"help": "auto (unsloth on CUDA if installed, else transformers+peft), unsloth or transformers.",
                  "choices": ["auto", "unsloth", "transformers"]},
    )
    resume: str = field(
        default="auto",
        metadata={"help": "auto: continue from the latest complete checkpoint in output_dir; never; or a path."},
    )
    sync_dir: str | None = field(
        default=None,
        metadata={"help": "Copy each checkpoint to this folder too (a mounted Google Drive on Colab)."},
    )


QUANTS = {"q4_k_m": "Q4_K_M", "q5_k_m": "Q5_K_M", "q8_0": "Q8_0"}  # name -> llama.cpp file type
DEFAULT_QUANTS = ("q4_k_m", "q5_k_m", "q8_0")


@dataclass
class ExportArguments:
    run: str | None = field(default=None, metadata={"help": "Training output_dir (default: the recipe's)."})
    checkpoint: int | None = field(default=None, metadata={"help": "Export checkpoint-N instead of final/."})
    quant: list[str] = field(default_factory=lambda: list(DEFAULT_QUANTS),
                             metadata={"help": f"Quantizations: {', '.join(QUANTS)}."})
    f16: bool = field(default=False, metadata={"help": "Also keep the F16 GGUF (always made, as the source)."})
    out: str | None = field(default=None, metadata={"help": "Output folder (default: RUN/gguf)."})
    model_name: str | None = field(default=None, metadata={"help": "File stem, <model-name>.<QUANT>.gguf."})
    push_to: str | None = field(default=None, metadata={"help": "Hub repo USER/NAME to publish to."})
    private: bool = field(default=False, metadata={"help": "Create the Hub repo private."})
    with_adapter: bool = field(default=False, metadata={"help": "Upload the LoRA adapter too."})
    dry_run: bool = field(default=False, metadata={"help": "Build the upload folder and list it; send nothing."})
    validate: bool = field(default=True, metadata={"help": "Check every file after export (--no_validate skips)."})


def recipe_path(name_or_path: str) -> Path:
    """A recipe is a YAML path, or the name of one in `recipes/` (`smollm2-135m-cpu`)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    named = RECIPES_DIR / f"{name_or_path.removesuffix('.yaml')}.yaml"
    if named.is_file():
        return named
    known = ", ".join(sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))) or "none found"
    raise UserError(f"recipe '{name_or_path}' not found: give a YAML path or one of: {known}")


def parse_train_args(argv: list[str]):
    """Parse `[--recipe R] [--key value ...]` into (data, run, model, training) argument dataclasses."""
    from trl import TrlParser

    path, argv = pop_recipe(argv)
    recipe = read_recipe(path, (*train_dataclasses(), ExportArguments))
    dataclass_types = train_dataclasses()
    if not {"bf16", "fp16"} & (set(recipe) | {a.lstrip("-") for a in argv}):
        argv = [*precision_defaults(), *argv]
    parser = TrlParser(dataclass_types)
    try:
        data_args, run_args, model_args, training_args, unknown = parser.parse_args_and_config(
            ["--config", str(path), *argv], return_remaining_strings=True
        )
    except ValueError as err:  # dataclass __post_init__ checks, e.g. incompatible options
        raise UserError(f"invalid recipe value: {err}") from None
    unknown = [a for a in unknown if a.startswith("--") and a.lstrip("-") not in recipe]  # export keys
    if unknown:
        raise UserError(unknown_keys_message(unknown, dataclass_types, "option"))
    validate(training_args)
    return data_args, run_args, model_args, training_args


def parse_export_args(argv: list[str]) -> ExportArguments:
    """Parse `[--recipe R] [--export_key value ...]`; `run` defaults to the recipe's training output_dir."""
    from transformers import HfArgumentParser

    path, argv = pop_recipe(argv)
    recipe = read_recipe(path, (*train_dataclasses(), ExportArguments))
    parser = HfArgumentParser(ExportArguments)
    export_keys = {f.name for f in fields(ExportArguments)}
    parser.set_defaults(**{k: v for k, v in recipe.items() if k in export_keys})
    args, unknown = parser.parse_args_into_dataclasses(argv, return_remaining_strings=True)
    if unknown:
        raise UserError(unknown_keys_message([a for a in unknown if a.startswith("--")], (ExportArguments,), "option"))
    args.run = args.run or recipe.get("output_dir")
    if not args.run:
        raise UserError("which run? give --run RUN_DIR (the training output_dir)")
    return args


def train_dataclasses() -> tuple:
    from trl import ModelConfig, SFTConfig

    return DataArguments, RunArguments, ModelConfig, SFTConfig


def pop_recipe(argv: list[str]) -> tuple[Path, list[str]]:
    """Take `--recipe R` out of the arguments; the default recipe if absent."""
    argv = list(argv)
    recipe = DEFAULT_RECIPE
    if "--recipe" in argv:
        i = argv.index("--recipe")
        if i + 1 >= len(argv):
            raise UserError("--recipe needs a value: a YAML path or a recipe name")
        recipe = argv[i + 1]
        del argv[i : i + 2]
    return recipe_path(recipe), argv


def valid_keys(dataclass_types) -> list[str]:
    return sorted({f.name for cls in dataclass_types for f in fields(cls) if f.init})


def unknown_keys_message(keys: list[str], dataclass_types, what: str) -> str:
    valid = valid_keys(dataclass_types)
    hints = []
    for key in keys:
        close = difflib.get_close_matches(key.lstrip("-"), valid, n=3)
        hints.append(f"{key}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    return f"unknown {what}: {'; '.join(hints)}. Valid keys: {', '.join(valid)}"


def precision_defaults() -> list[str]:
    """Mixed precision when a recipe leaves it unset: bf16 where the GPU has it, else fp16 (a T4);
    on a CPU, bf16 autocast where the CPU computes bf16 natively (faster: docs/benchmarks.md), else fp32."""
    import torch

    cuda = torch.cuda.is_available()
    bf16 = torch.cuda.is_bf16_supported() if cuda else cpu_has_native_bf16()
    cpu_autocast = ["--use_cpu", "true"] if bf16 and not cuda else []  # else TrainingArguments refuses bf16
    return ["--bf16", str(bf16), "--fp16", str(cuda and not bf16), *cpu_autocast]


def cpu_has_native_bf16() -> bool:
    """AVX-512-BF16 or AMX: without them bf16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def read_recipe(path: Path, dataclass_types) -> dict:
    """The recipe as a dict; fails before any work on one that is not a mapping of known keys."""
    try:
        recipe = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"recipe {path} is not valid YAML: {err}") from None
    if not isinstance(recipe, dict):
        raise UserError(f"recipe {path} must be a YAML mapping of key: value")
    unknown = [k for k in recipe if k != "env" and k not in valid_keys(dataclass_types)]
    if unknown:
        raise UserError(f"{path}: " + unknown_keys_message(unknown, dataclass_types, "recipe key"))
    return recipe


def validate(training_args) -> None:
    """Range checks that TrainingArguments itself does not make."""
    lr = training_args.learning_rate
    if not (lr > 0 and math.isfinite(lr)):
        raise UserError(f"learning_rate must be > 0, got {lr}")
    if training_args.save_strategy == "steps" and training_args.save_steps <= 0:
        raise UserError(f"save_steps must be > 0, got {training_args.save_steps}")
    if training_args.per_device_train_batch_size <= 0:
        raise UserError(f"per_device_train_batch_size must be > 0, got {training_args.per_device_train_batch_size}")
    if training_args.gradient_accumulation_steps <= 0:
        raise UserError(f"gradient_accumulation_steps must be > 0, got {training_args.gradient_accumulation_steps}")
    if training_args.max_length is not None and training_args.max_length <= 0:
        raise UserError(f"max_length must be > 0, got {training_args.max_length}")
