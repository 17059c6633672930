"""The layout of a run folder, in one place: train writes it; export, evaluate, the app and the benchmarks read it.

    runs/demo/
        coverletter_run.json       the base model as the recipe named it, the dataset
        data_report.md (.json)     what the data pipeline kept and dropped, and why
        loss_log.jsonl             the Trainer's log, one JSON line per logged step (loss_curve.png plots it)
        checkpoint-N/              Trainer checkpoints (complete once trainer_state.json is readable)
        final/                     the LoRA adapter and tokenizer after training
        gguf/<model>.<QUANT>.gguf  the export, with merged/ and export_report.json (.md) beside it

And where a checkout keeps what the package reads from it: recipes/, data/ and the Space's shell, huggingface/.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .errors import UserError

logger = logging.getLogger(__name__)

CHECKOUT = Path(__file__).resolve().parents[2]  # the repository, when the package runs from a checkout
DATA = CHECKOUT / "data"

CHECKPOINT_PREFIX = "checkpoint-"
RUN_INFO = "coverletter_run.json"
DATA_REPORT = "data_report.md"
LOSS_LOG = "loss_log.jsonl"
LOSS_CURVE = "loss_curve.png"
FINAL = "final"
GGUF = "gguf"
MERGED = "merged"
EXPORT_REPORT = "export_report.json"
EXPORT_REPORT_MD = "export_report.md"
EXPORT_FAILED = "export_report.failed.json"
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "pytorch_model.bin")
SERVED_QUANT = "Q8_0"  # what the app, the evaluation and the notebook pick from a run unless told otherwise
SERVED_FILE = f"*{SERVED_QUANT}.gguf"  # the same file in a Hub repo (MODEL_FILE's default)


def final_dir(run_dir: Path) -> Path:
    return Path(run_dir) / FINAL


def gguf_dir(run_dir: Path) -> Path:
    return Path(run_dir) / GGUF


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / f"{CHECKPOINT_PREFIX}{step}"


def write_run_info(run_dir: Path, base_model: str, dataset_name: str) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    partial = run_dir / f".{RUN_INFO}.partial"
    partial.write_text(json.dumps({"base_model": base_model, "dataset_name": dataset_name}, indent=1))
    partial.replace(run_dir / RUN_INFO)


def read_run_info(run_dir: Path) -> dict:
    """What train recorded about the run; {} for a folder made by other tools."""
    info = Path(run_dir) / RUN_INFO
    return json.loads(info.read_text()) if info.is_file() else {}


def is_complete_checkpoint(folder: Path) -> bool:
    """Trainer writes trainer_state.json last: a checkpoint with a readable one and weights is complete."""
    try:
        state = json.loads((Path(folder) / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and any((Path(folder) / name).is_file() for name in WEIGHT_FILES)


def checkpoints(run_dir: Path) -> list[Path]:
    """checkpoint-N folders, newest (highest N) first."""
    found = [p for p in Path(run_dir).glob(f"{CHECKPOINT_PREFIX}*")
             if p.is_dir() and p.name[len(CHECKPOINT_PREFIX):].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]), reverse=True)


def latest_complete_checkpoint(run_dir: Path) -> Path | None:
    for folder in checkpoints(run_dir):
        if is_complete_checkpoint(folder):
            return folder
        logger.warning("ignoring %s: it is incomplete (the run was probably killed while saving it)", folder)
    return None


def complete_checkpoint(run_dir: Path, step: int | None = None) -> Path:
    """checkpoint-STEP, or the latest complete one; a clear error when there is none."""
    if step is None:
        folder = latest_complete_checkpoint(run_dir) if Path(run_dir).is_dir() else None
        if folder is None:
            raise UserError(f"no complete checkpoint in {run_dir}")
        return folder
    folder = checkpoint_dir(run_dir, step)
    if not is_complete_checkpoint(folder):
        raise UserError(f"{folder} is not a complete checkpoint")
    return folder


def gguf_files(folder: Path, quant: str = SERVED_QUANT) -> list[Path]:
    """The <model>.<QUANT>.gguf files in a folder, by name."""
    return sorted(Path(folder).glob(f"*.{quant.upper()}.gguf"))


def find_gguf(model: str | Path, quant: str = SERVED_QUANT) -> Path:
    """A GGUF file as given, or a run's export of that quant (RUN/gguf/, or an export folder itself)."""
    path = Path(model)
    if path.is_file() and path.suffix == ".gguf":
        return path
    if path.is_dir():
        found = gguf_files(gguf_dir(path), quant) or gguf_files(path, quant)
        if found:
            return found[0]
    raise UserError(f"{model} is not a GGUF file nor a run folder with {GGUF}/*.{quant.upper()}.gguf "
                    "(run `coverletter export` first)")


def latest_exports(root: Path = Path("runs"), quant: str = SERVED_QUANT) -> list[Path]:
    """Every run's export of that quant under root, newest first."""
    return sorted(root.glob(f"*/{GGUF}/*.{quant.upper()}.gguf"), key=lambda p: p.stat().st_mtime, reverse=True)
