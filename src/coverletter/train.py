"""LoRA supervised fine-tuning with TRL's SFTTrainer; checkpoints that survive a killed session.

    coverletter train --recipe smollm2-135m-cpu --max_steps 4 --output_dir runs/try

Stages, as in the notebook: parse -> device -> resume point -> model -> data -> trainer -> train -> save -> plot.
"""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from pathlib import Path

from transformers import TrainerCallback

from . import data as data_lib
from . import model as model_lib
from .config import UserError

logger = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "checkpoint-"
RUN_INFO = "coverletter_run.json"  # what export needs to know about the run: the base model as named
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "pytorch_model.bin")


def train(data_args, run_args, model_args, training_args) -> Path:
    """Run one fine-tuning; returns the folder of the final adapter (`output_dir/final`)."""
    from transformers import set_seed
    from trl import SFTTrainer

    set_seed(training_args.seed)

    ###############
    # Device
    ###############
    backend = model_lib.choose_backend(run_args.backend)
    for change in model_lib.adapt_to_device(model_args, training_args):
        logger.warning("no CUDA GPU: %s", change)
    logger.info("backend: %s, data parallel over %d process(es)", backend, training_args.world_size)

    ###############
    # Resume point
    ###############
    output_dir = Path(training_args.output_dir)
    checkpoint = resume_point(output_dir, run_args.resume)
    logger.info("resuming from %s" % checkpoint if checkpoint else "starting a new run in %s" % output_dir)

    if training_args.process_index == 0:
        write_run_info(output_dir, model_args, data_args)

    ###############
    # Data, model
    ###############
    examples, report = data_lib.load_clean(data_args)
    model, tokenizer, peft_config = model_lib.load_for_training(model_args, training_args, backend)
    dataset = data_lib.tokenize_dataset(tokenizer, examples, report, data_args, training_args.max_length)
    print(report.line(), flush=True)
    if training_args.process_index == 0:
        report.write(output_dir / "data_report.md")

    ###############
    # Trainer
    ###############
    callbacks = [SyncCheckpoints(run_args.sync_dir)] if run_args.sync_dir else []
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )

    ###############
    # Train
    ###############
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)

    ###############
    # Save
    ###############
    final = output_dir / "final"
    if trainer.is_world_process_zero():
        trainer.save_model(str(final))
        tokenizer.save_pretrained(str(final))
        losses = write_loss_log(trainer.state.log_history, output_dir / "loss_log.jsonl")
        plot_loss_curve(losses, output_dir / "loss_curve.png")
        logger.info("final adapter in %s; loss curve in %s", final, output_dir / "loss_curve.png")
    return final


# --------------------------------------------------------------------------- checkpoints


def write_run_info(output_dir: Path, model_args, data_args) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    info = {"base_model": model_args.model_name_or_path, "dataset_name": data_args.dataset_name}
    partial = output_dir / f".{RUN_INFO}.partial"
    partial.write_text(json.dumps(info, indent=1))
    partial.replace(output_dir / RUN_INFO)


def is_complete_checkpoint(folder: Path) -> bool:
    """Trainer writes trainer_state.json last: a checkpoint with a readable one and weights is complete."""
    try:
        state = json.loads((folder / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and any((folder / name).is_file() for name in WEIGHT_FILES)


def checkpoints(output_dir: Path) -> list[Path]:
    """checkpoint-N folders, newest (highest N) first."""
    found = [p for p in output_dir.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir() and p.name[len(CHECKPOINT_PREFIX):].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]), reverse=True)


def latest_complete_checkpoint(output_dir: Path) -> Path | None:
    for folder in checkpoints(output_dir):
        if is_complete_checkpoint(folder):
            return folder
        logger.warning("ignoring %s: it is incomplete (the run was probably killed while saving it)", folder)
    return None


def resume_point(output_dir: Path, resume: str) -> Path | None:
    if resume == "never":
        return None
    if resume == "auto":
        return latest_complete_checkpoint(output_dir) if output_dir.is_dir() else None
    path = Path(resume)
    if not is_complete_checkpoint(path):
        raise UserError(f"--resume {resume}: not a complete checkpoint folder (needs trainer_state.json and weights)")
    return path


class SyncCheckpoints(TrainerCallback):
    """Copy each checkpoint to another folder (a mounted Google Drive) once it is complete."""

    def __init__(self, sync_dir: str):
        self.sync_dir = Path(sync_dir).expanduser()

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        source = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
        target = self.sync_dir / Path(args.output_dir).name / source.name
        scratch = target.with_name(f".{target.name}.partial")
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(source, scratch)
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
        logger.info("checkpoint copied to %s", target)


def pack_checkpoint(run_dir: Path, step: int | None = None, out: Path | None = None) -> Path:
    """Zip one complete checkpoint (the latest by default), to download it from Colab."""
    run_dir = Path(run_dir)
    if step is None:
        folder = latest_complete_checkpoint(run_dir) if run_dir.is_dir() else None
        if folder is None:
            raise UserError(f"no complete checkpoint in {run_dir}")
    else:
        folder = run_dir / f"{CHECKPOINT_PREFIX}{step}"
        if not is_complete_checkpoint(folder):
            raise UserError(f"{folder} is not a complete checkpoint")
    out = Path(out) if out else run_dir / f"{run_dir.name}-{folder.name}.zip"
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, Path(folder.name) / file.relative_to(folder))
    partial.rename(out)
    return out


# --------------------------------------------------------------------------- loss log


def write_loss_log(log_history: list[dict], path: Path) -> list[dict]:
    """Per-step training losses (kept across resumes: they live in trainer_state.json)."""
    losses = [{"step": e["step"], "loss": e["loss"], "learning_rate": e.get("learning_rate")}
              for e in log_history if "loss" in e]
    path.write_text("".join(json.dumps(e) + "\n" for e in losses))
    return losses


def plot_loss_curve(losses: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot([e["step"] for e in losses], [e["loss"] for e in losses], marker="o", markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (assistant tokens)")
    ax.set_title("LoRA fine-tuning")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str]) -> Path:
    """`coverletter train ARGS`: parse the recipe and overrides, then train."""
    from .config import parse_train_args

    return train(*parse_train_args(argv))
