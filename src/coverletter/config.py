"""Every subcommand's options as dataclasses, and the one parser that fills them from a recipe and the command line.

A recipe (YAML, `recipes/`) sets any field of `DataArguments`, `RunArguments`, TRL's `ModelConfig` and `SFTConfig`
(train) and of the other subcommands' dataclasses below; the command line overrides it (`--learning_rate 1e-4`).
`parse_args` is transformers' HfArgumentParser, as TRL's own parser is: one flag spelling (`--dry_run`, with the
alias `--dry-run`), `--no_<flag>` for options on by default, `--help` with every default.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from . import letter, runs
from .errors import UserError, first_line
from .precision import precision_defaults

RECIPES_DIR = runs.CHECKOUT / "recipes"
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
                          "skills=Skillsets+Qualifications,...' (+ joins columns); unset: rows in the FineTome schema "
                          "are taken as they are, other tables read in the ShashiVish/cover-letter-dataset layout."},
    )
    response_template: str | None = field(
        default=None,
        metadata={"help": "Text that opens an assistant turn in the rendered chat; "
                          "detected from the template if unset."},
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
    cover_letter_seed: int = field(default=0, metadata={"help": "Seed of the synthetic cover-letter generator and "
                                                                 "of the written letters' renamed copies."})
    cover_letter_augment: int = field(
        default=0,
        metadata={"help": "Renamed copies of each written letter (coverletter.data.augment): another applicant's "
                          "name and another company's brand, consistently everywhere; skills and numbers untouched. "
                          "0: none. Not yet measured in a study."},
    )


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


@dataclass
class EvaluateArguments:
    model: str = field(metadata={"help": "A GGUF file, or a run folder (its gguf/*.<served quant>.gguf)."})
    profiles: str = field(default=str(runs.DATA / "eval-profiles.jsonl"),
                          metadata={"help": "Profiles to write letters for, JSONL with the form's field names."})
    out: str | None = field(default=None, metadata={"help": "Folder for report.json, report.md and report.png."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N profiles."})
    temperature: float = field(default=letter.DEFAULT_TEMPERATURE,
                               metadata={"help": "Sampling temperature; the default is the form's."})
    length_steering: bool = field(default=True, metadata={
        "help": "Steer each letter's length as the app does; --no_length_steering leaves it to the model alone."})
    written_heldout: str | None = field(default=None, metadata={
        "help": "Written letters (data/letters/ layout) whose loss is measured as the app prompts them; default: "
                "the corpus's held-out split."})


@dataclass
class SynthArguments:
    count: int = field(default=2000, metadata={"help": "How many synthetic letters to generate."})
    seed: int = field(default=0, metadata={"help": "The generator's seed."})
    out: str | None = field(default=None, metadata={"help": "Write the examples here as JSONL."})


@dataclass
class LettersArguments:
    paths: list[str] = field(default_factory=list, metadata={"help": "JSONL files of written letters; default: "
                                                                      "the corpus (data/letters/)."})


@dataclass
class ServeArguments:
    host: str | None = field(default=None, metadata={"help": "Address to listen on; default GRADIO_SERVER_NAME, "
                                                              "else 127.0.0.1."})
    port: int | None = field(default=None, metadata={"help": "Port; default GRADIO_SERVER_PORT, else 7860."})


@dataclass
class DemoArguments:
    output_dir: str = field(default="runs/demo", metadata={"help": "The demo's run folder."})
    serve: bool = field(default=True, metadata={"help": "Serve the app on the export (--no_serve stops before)."})


@dataclass
class CheckpointArguments:
    run: str = field(metadata={"help": "The training output_dir."})
    step: int | None = field(default=None, metadata={"help": "checkpoint-STEP; default: the latest complete one."})
    out: str | None = field(default=None, metadata={"help": "The zip file; default: next to the run."})


SPACE_HARDWARE = ("cpu-basic", "zero-a10g")  # the free CPU, or ZeroGPU (whose hosts serve this app on their CPU)


@dataclass
class SpaceArguments:
    repo: str = field(metadata={"help": "The Space to create or update, USER/NAME."})
    model_repo: str | None = field(default=None, metadata={"help": "Hub repo of the GGUF files (coverletter "
                                                                   "export --push_to); else --gguf is carried."})
    model_file: str = field(default=runs.SERVED_FILE, metadata={"help": "File name or pattern in --model_repo."})
    gguf: str | None = field(default=None, metadata={"help": "A local GGUF to carry in the Space (default: the "
                                                             "newest export in runs/) when there is no --model_repo."})
    hardware: str = field(default=SPACE_HARDWARE[0], metadata={"help": "Space hardware.",
                                                               "choices": list(SPACE_HARDWARE)})
    private: bool = field(default=False, metadata={"help": "Create the Space private."})
    dry_run: bool = field(default=False, metadata={"help": "Build the folder and list it; send nothing."})
    out: str | None = field(default=None, metadata={"help": "Build the folder here (default: a temporary one)."})


# --------------------------------------------------------------------------- recipes and the command line


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


def train_dataclasses() -> tuple:
    from trl import ModelConfig, SFTConfig

    return DataArguments, RunArguments, ModelConfig, SFTConfig


def recipe_dataclasses() -> tuple:
    """Every subcommand's options: a recipe may set any of them (a key shared by two subcommands sets both)."""
    return (*train_dataclasses(), ExportArguments, EvaluateArguments, SynthArguments, LettersArguments, ServeArguments,
            DemoArguments, CheckpointArguments, SpaceArguments)


def parse_args(dataclass_types: tuple, argv: list[str], prog: str, defaults=None,
               default_recipe: str | None = None) -> tuple:
    """One parser for every subcommand: `[--recipe R] [--key value ...]` into instances of the dataclasses, with
    transformers' HfArgumentParser (TRL's parser is one too): the recipe's keys are the defaults, the command line
    overrides them, `--help` lists every key with its default. `defaults(recipe)` adds defaults drawn from the
    recipe; `default_recipe` is read when none is given (train and export: the training settings). A mistake is a
    UserError naming the close matches, before any work."""
    from transformers import HfArgumentParser

    class Parser(HfArgumentParser):
        def error(self, message):  # argparse would print its usage and exit: one line instead
            raise UserError(f"{self.prog}: {message}")

    path, argv = pop_recipe(argv, default_recipe)
    recipe = read_recipe(path, recipe_dataclasses()) if path else {}  # no recipe: no need to import TRL's classes
    keys = valid_keys(dataclass_types)
    parser = Parser(dataclass_types, prog=prog, epilog="Any option can also come from a recipe: --recipe NAME_OR_YAML "
                                                       f"(a file in recipes/; default {default_recipe or 'none'}), "
                                                       "which the command line overrides.")
    drawn = defaults(recipe) if defaults else {}  # what the recipe sets itself wins: "use_cpu: true" with bf16
    parser.set_defaults(**(drawn | {key: value for key, value in recipe.items() if key in keys}))
    unknown = [arg for arg in argv if arg.startswith("-") and arg.split("=")[0] not in flags(keys) and
               not arg.lstrip("-").replace(".", "").isdigit()]  # a negative number is a value
    if unknown:  # before argparse, which would first complain of a missing required option
        raise UserError(f"{prog}: " + unknown_keys_message(unknown, dataclass_types, "option"))
    try:
        *parsed, rest = parser.parse_args_into_dataclasses(argv, return_remaining_strings=True)
    except ValueError as err:  # dataclass __post_init__ checks, e.g. incompatible options
        raise UserError(f"{prog}: invalid value: {first_line(err)}") from None
    if rest:
        raise UserError(f"{prog}: unexpected argument: {' '.join(rest)}")
    return tuple(parsed)


def parse_action_args(dataclass_types: tuple, argv: list[str], command: str, actions: dict[str, str]) -> tuple:
    """`coverletter COMMAND ACTION [--key value ...]`: the action, then its options as `parse_args` reads them. A
    missing or unknown action is one line listing the actions."""
    if not argv or argv[0] not in actions:
        listed = "; ".join(f"{action}: {what}" for action, what in actions.items())
        raise UserError(f"usage: coverletter {command} {'|'.join(actions)} [options] - {listed} (options: "
                        f"coverletter {command} {next(iter(actions))} --help)")
    return argv[0], parse_args(dataclass_types, argv[1:], f"coverletter {command} {argv[0]}")


def flags(keys: list[str]) -> set[str]:
    """Every spelling HfArgumentParser accepts for these keys: --key_name, --key-name, their --no_ forms, --help."""
    spellings = {"-h", "--help"}
    for key in keys:
        for name in (key, f"no_{key}"):
            spellings |= {f"--{name}", f"--{name.replace('_', '-')}"}
    return spellings


def parse_train_args(argv: list[str]):
    """`coverletter train`'s arguments: (data, run, model, training) dataclasses."""
    given = {a.lstrip("-").split("=")[0] for a in argv}

    def precision(recipe: dict) -> dict:  # only where neither the recipe nor the command line sets it
        return {} if {"bf16", "fp16"} & (given | recipe.keys()) else precision_defaults()

    data_args, run_args, model_args, training_args = parse_args(train_dataclasses(), argv, "coverletter train",
                                                                defaults=precision, default_recipe=DEFAULT_RECIPE)
    validate(training_args)
    return data_args, run_args, model_args, training_args


def parse_export_args(argv: list[str]) -> ExportArguments:
    """`coverletter export`'s arguments; `run` defaults to the recipe's training output_dir."""
    (args,) = parse_args((ExportArguments,), argv, "coverletter export", default_recipe=DEFAULT_RECIPE,
                         defaults=lambda recipe: {"run": recipe["output_dir"]} if "output_dir" in recipe else {})
    if not args.run:
        raise UserError("which run? give --run RUN_DIR (the training output_dir)")
    return args


def pop_recipe(argv: list[str], default: str | None) -> tuple[Path | None, list[str]]:
    """Take `--recipe R` out of the arguments; the default recipe if absent (None: no recipe)."""
    argv = list(argv)
    recipe = default
    for i, arg in enumerate(argv):
        if arg == "--recipe" or arg.startswith("--recipe="):
            value = arg.partition("=")[2] or (argv[i + 1] if i + 1 < len(argv) else "")
            if not value or value.startswith("--"):
                raise UserError("--recipe needs a value: a YAML path or a recipe name")
            recipe = value
            del argv[i : i + (1 if "=" in arg else 2)]
            break
    return (recipe_path(recipe) if recipe else None), argv


def valid_keys(dataclass_types) -> list[str]:
    return sorted({f.name for cls in dataclass_types for f in fields(cls) if f.init})


def unknown_keys_message(keys: list[str], dataclass_types, what: str) -> str:
    valid = valid_keys(dataclass_types)
    hints = []
    for key in keys:
        close = difflib.get_close_matches(key.lstrip("-").split("=")[0].replace("-", "_"), valid, n=3)
        hints.append(f"{key}" + (f" (did you mean {', '.join('--' + c if key.startswith('--') else c for c in close)}?)"
                                 if close else ""))
    return f"unknown {what}: {'; '.join(hints)}. Valid keys: {', '.join(valid)}"


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
