"""LoRA supervised fine-tuning with TRL's SFTTrainer; checkpoints that survive a killed session.

    coverletter train --recipe smollm2-135m-cpu --max_steps 4 --output_dir runs/try

Stages, as in the notebook: parse -> device -> resume point -> model -> data -> trainer -> train -> save -> plot.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import zipfile
from pathlib import Path

from transformers import ProgressCallback, TrainerCallback

from . import data as data_lib
from . import model as model_lib
from . import runs
from .config import parse_train_args
from .errors import UserError

logger = logging.getLogger(__name__)


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
    checkpoint = resume_point(output_dir, resume_setting(run_args.resume, training_args.resume_from_checkpoint))
    logger.info("resuming from %s" % checkpoint if checkpoint else "starting a new run in %s" % output_dir)

    if training_args.process_index == 0:
        runs.write_run_info(output_dir, model_args.model_name_or_path, data_args.dataset_name)

    ###############
    # Data, model
    ###############
    examples, report = data_lib.load_clean(data_args)
    model, tokenizer, peft_config = model_lib.load_for_training(model_args, training_args, backend)
    dataset = data_lib.tokenize_dataset(tokenizer, examples, report, data_args, training_args.max_length)
    print(report.line(), flush=True)
    if training_args.process_index == 0:
        report.write(output_dir / runs.DATA_REPORT)

    ###############
    # Trainer
    ###############
    speed = ReportSpeed()
    callbacks = [speed] + ([SyncCheckpoints(run_args.sync_dir)] if run_args.sync_dir else [])
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    speed.progress = next((cb for cb in trainer.callback_handler.callbacks if isinstance(cb, ProgressCallback)), None)

    ###############
    # Train
    ###############
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)

    ###############
    # Save
    ###############
    final = runs.final_dir(output_dir)
    if trainer.is_world_process_zero():
        trainer.save_model(str(final))
        tokenizer.save_pretrained(str(final))
        losses = write_loss_log(trainer.state.log_history, output_dir / runs.LOSS_LOG)
        plot_loss_curve(losses, output_dir / runs.LOSS_CURVE)
        logger.info("final adapter in %s; loss curve in %s", final, output_dir / runs.LOSS_CURVE)
    return final


# --------------------------------------------------------------------------- checkpoints


def resume_setting(resume: str, resume_from_checkpoint: str | None) -> str:
    """`--resume` (ours) and Trainer's own `resume_from_checkpoint`, as one setting: a recipe may use either."""
    if resume_from_checkpoint is None:
        return resume
    wanted = {"true": "auto", "false": "never"}.get(resume_from_checkpoint.lower(), resume_from_checkpoint)
    if resume not in ("auto", wanted):
        raise UserError(f"resume_from_checkpoint {resume_from_checkpoint} and --resume {resume} disagree: "
                        "set only one of them")
    return wanted


def resume_point(output_dir: Path, resume: str) -> Path | None:
    if resume == "never":
        return None
    if resume == "auto":
        return runs.latest_complete_checkpoint(output_dir) if output_dir.is_dir() else None
    path = Path(resume)
    if not runs.is_complete_checkpoint(path):
        raise UserError(f"--resume {resume}: not a complete checkpoint folder (needs trainer_state.json and weights)")
    return path


class SyncCheckpoints(TrainerCallback):
    """Copy each checkpoint to another folder (a mounted Google Drive) once it is complete."""

    def __init__(self, sync_dir: str):
        self.sync_dir = Path(sync_dir).expanduser()

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        source = runs.checkpoint_dir(Path(args.output_dir), state.global_step)
        target = self.sync_dir / Path(args.output_dir).name / source.name
        scratch = target.with_name(f".{target.name}.partial")
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(source, scratch)
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
        logger.info("checkpoint copied to %s", target)


class ReportSpeed(TrainerCallback):
    """Once a few steps are done, say how long the whole run will take, in the log and beside the progress bar (a
    laptop user learns whether to wait); at the end, seconds per step of this session (a resumed run counts only its
    own steps) and, on a GPU, the peak memory: what a user needs to size batch and sequence length for their card."""

    ESTIMATE_AFTER = 5  # steps timed after the first, whose start-up cost would skew the estimate
    progress = None  # Trainer's ProgressCallback, whose bar shows the estimate

    def on_train_begin(self, args, state, control, **kwargs):
        self.started, self.first_step = time.perf_counter(), state.global_step  # after a resume's state is loaded
        self.after_first = None

    def on_step_end(self, args, state, control, **kwargs):
        done = state.global_step - self.first_step
        if done == 1:
            self.after_first = time.perf_counter()
        elif done > self.ESTIMATE_AFTER and self.after_first is not None and state.is_world_process_zero:
            now = time.perf_counter()
            per_step = (now - self.after_first) / (done - 1)
            total = now - self.started + per_step * (state.max_steps - state.global_step)
            if done == 1 + self.ESTIMATE_AFTER:  # said once in the log; the bar's figure follows the steps' mean
                logger.info("expected total time: %s for %d steps at %.1f s a step (%s left)", duration(total),
                            state.max_steps - self.first_step, per_step, duration(total - (now - self.started)))
            bar = getattr(self.progress, "training_bar", None)
            if bar is not None:
                bar.set_postfix_str(f"expected total {duration(total)}")

    def on_train_end(self, args, state, control, **kwargs):
        steps, seconds = state.global_step - self.first_step, time.perf_counter() - self.started
        if state.is_world_process_zero and steps:
            logger.info("trained %d steps in %.1f s (%.2f s/step)%s", steps, seconds, seconds / steps,
                        peak_gpu_memory())


def duration(seconds: float) -> str:
    """'1 h 40 min', '35 min', '50 s'."""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def peak_gpu_memory() -> str:
    import torch

    if not torch.cuda.is_available():
        return ""
    return "; peak GPU memory %.2f GiB reserved" % (torch.cuda.max_memory_reserved() / 2**30)


def pack_checkpoint(run_dir: Path, step: int | None = None, out: Path | None = None) -> Path:
    """Zip one complete checkpoint (the latest by default), to download it from Colab."""
    run_dir = Path(run_dir)
    folder = runs.complete_checkpoint(run_dir, step)
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
    return train(*parse_train_args(argv))
