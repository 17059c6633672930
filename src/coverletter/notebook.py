"""What the Colab notebook needs beyond the CLI's stages: the machine, the token, Drive, and a look at things.

Each notebook cell is a few lines calling this module or the stage modules (data, train, export, generate).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from . import letter
from . import model as model_lib
from .config import parse_train_args
from .errors import UserError
from .data import tokenize_with_mask
from .hub import hub_token, publish_model
from .generate import LetterWriter

UNSLOTH_INSTALL = '%pip install -q unsloth  # then Runtime > Restart session, and run the cells again'
SAMPLE_PROFILE = dict(name="Maria Lopez", job_title="Data Analyst", company_name="Northwind Logistics",
                      skills="SQL, Python (pandas), Tableau dashboards, A/B test analysis",
                      reasons="Northwind's route-optimisation work is the applied analytics I want to grow in.",
                      tone="formal", length="short")


def in_colab() -> bool:
    return "google.colab" in sys.modules or importlib.util.find_spec("google.colab") is not None


def hub_token_from_colab() -> bool:
    """Put the HF_TOKEN Colab secret into the environment (never printed); True when a token is available."""
    if not os.environ.get("HF_TOKEN") and in_colab():
        try:
            from google.colab import userdata

            os.environ["HF_TOKEN"] = userdata.get("HF_TOKEN")
        except Exception:  # secret missing or notebook access not granted
            pass
    return bool(hub_token())


def prepare_checkpoint_dir(checkpoint_dir: str) -> Path | None:
    if not checkpoint_dir:
        return None
    path = Path(checkpoint_dir).expanduser()
    if str(path).startswith("/content/drive") and not Path("/content/drive/MyDrive").is_dir():
        raise UserError("Google Drive is not mounted: run `from google.colab import drive; "
                        "drive.mount('/content/drive')` first, or set checkpoint_dir = ''")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create checkpoint_dir {path}: {err.strerror or err}") from None
    return path


def setup(recipe: str, max_steps: int = 0, checkpoint_dir: str = ""):
    """Parse the recipe for this notebook run, check the machine against it, find the Hub token, prepare the
    checkpoint folder and print a summary; returns the run's (data, run, model, training) arguments.

    Checkpoints go to checkpoint_dir when one is given, so a re-run after a disconnect finds them and resumes."""
    output_dir = str(Path(checkpoint_dir) / recipe) if checkpoint_dir else f"runs/{recipe}"
    overrides = ["--output_dir", output_dir] + (["--max_steps", str(max_steps)] if max_steps else [])
    args = parse_train_args(["--recipe", recipe, *overrides])
    _, run_args, model_args, training_args = args
    gpu = model_lib.cuda_available()
    gpu_only = model_lib.gpu_only_options(model_args, training_args)
    if gpu_only and not gpu:
        raise UserError(f"recipe {recipe} needs a CUDA GPU ({', '.join(gpu_only)}) and none is here. "
                        "In Colab: Runtime > Change runtime type > T4 GPU. On a CPU use recipe = 'smollm2-135m-cpu'")
    summary = {
        "device": gpu_name() if gpu else "CPU",
        "backend": "unsloth" if model_lib.choose_backend(run_args.backend) == "unsloth" else "transformers + peft",
        "hub_token": "found" if hub_token_from_colab() else "none (set the HF_TOKEN secret to push)",
        "checkpoint_dir": str(prepare_checkpoint_dir(checkpoint_dir) or "(run folder only)"),
    }
    for key, value in summary.items():
        print(f"{key:>15}: {value}")
    if gpu and importlib.util.find_spec("unsloth") is None:
        print(f"for unsloth's fast path: {UNSLOTH_INSTALL}")
    return args


def gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0)


def show_masked(tokenizer, messages: list[dict], markers) -> str:
    """The rendered conversation with the trained (assistant) tokens between ⟦ and ⟧."""
    encoded = tokenize_with_mask(tokenizer, messages, markers)
    out, inside = [], False
    for token, trained in zip(encoded["input_ids"], encoded["assistant_masks"]):
        if trained != inside:
            out.append("⟦" if trained else "⟧")
            inside = bool(trained)
        out.append(tokenizer.decode([token]))
    return "".join(out) + ("⟧" if inside else "")


def letter_from(gguf: str | Path, **fields) -> str:
    """A whole letter from a GGUF for the sample profile (or `fields`), written as the Space writes it."""
    profile = letter.make_profile(**{**SAMPLE_PROFILE, **fields})
    with LetterWriter.for_gguf(Path(gguf)) as writer:
        return writer.write(profile)


def publish_if_asked(result, push_to_hub: bool, hub_repo: str) -> None:
    """Push the export when asked and possible; without a token say so, and keep the files."""
    if not push_to_hub:
        print(f"not pushing (push_to_hub = False); the files are in {result.out_dir}")
    elif not hub_repo:
        print("push_to_hub is on but hub_repo is empty: set it to 'your-name/model-name'; "
              f"files kept in {result.out_dir}")
    elif not hub_token():
        print("no Hugging Face token: add the HF_TOKEN secret (the key icon in Colab's sidebar, with notebook "
              f"access) and run this cell again; the files are kept in {result.out_dir}")
    else:
        publish_model(result, hub_repo)
