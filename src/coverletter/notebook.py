"""What the Colab notebook needs beyond the CLI's stages: the machine, the token, Drive, and a look at things.

Each notebook cell is a few lines calling this module or the stage modules (data, train, export, letter).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from . import letter
from . import model as model_lib
from .config import UserError, parse_train_args, read_recipe, recipe_path, train_dataclasses

UNSLOTH_INSTALL = '%pip install -q unsloth  # then Runtime > Restart session, and run the cells again'
SAMPLE_PROFILE = dict(name="Maria Lopez", job_title="Data Analyst", company_name="Northwind Logistics",
                      skills="SQL, Python (pandas), Tableau dashboards, A/B test analysis",
                      reasons="Northwind's route-optimisation work is the applied analytics I want to grow in.",
                      tone="formal", length="short")


def in_colab() -> bool:
    return "google.colab" in sys.modules or importlib.util.find_spec("google.colab") is not None


def needs_gpu(recipe: str) -> bool:
    """4-bit loading or an 8-bit optimizer: the recipe was written for a CUDA GPU."""
    values = read_recipe(recipe_path(recipe), train_dataclasses())
    return bool(values.get("load_in_4bit")) or "8bit" in str(values.get("optim", ""))


def hub_token_from_colab() -> bool:
    """Put the HF_TOKEN Colab secret into the environment (never printed); True when a token is available."""
    if not os.environ.get("HF_TOKEN") and in_colab():
        try:
            from google.colab import userdata

            os.environ["HF_TOKEN"] = userdata.get("HF_TOKEN")
        except Exception:  # secret missing or notebook access not granted
            pass
    from huggingface_hub import get_token

    return bool(get_token())


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


def setup(recipe: str, checkpoint_dir: str = "") -> dict:
    """Check the machine against the recipe, find the Hub token, prepare the checkpoint folder; print a summary."""
    gpu = model_lib.cuda_available()
    if needs_gpu(recipe) and not gpu:
        raise UserError(f"recipe {recipe} needs a CUDA GPU (4-bit weights, 8-bit optimizer) and none is here. "
                        "In Colab: Runtime > Change runtime type > T4 GPU. On a CPU use recipe = 'smollm2-135m-cpu'")
    has_unsloth = importlib.util.find_spec("unsloth") is not None
    summary = {
        "device": gpu_name() if gpu else "CPU",
        "backend": "unsloth" if gpu and has_unsloth else "transformers + peft",
        "hub_token": "found" if hub_token_from_colab() else "none (set the HF_TOKEN secret to push)",
        "checkpoint_dir": str(prepare_checkpoint_dir(checkpoint_dir) or "(run folder only)"),
    }
    for key, value in summary.items():
        print(f"{key:>15}: {value}")
    if gpu and not has_unsloth:
        print(f"for unsloth's fast path: {UNSLOTH_INSTALL}")
    return summary


def gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0)


def run_arguments(recipe: str, max_steps: int, checkpoint_dir: str = ""):
    """The recipe's arguments for this notebook run: checkpoints go to checkpoint_dir when one is given, so a
    re-run after a disconnect finds them and resumes."""
    output_dir = str(Path(checkpoint_dir) / recipe) if checkpoint_dir else f"runs/{recipe}"
    overrides = ["--output_dir", output_dir] + (["--max_steps", str(max_steps)] if max_steps else [])
    return parse_train_args(["--recipe", recipe, *overrides])


def show_masked(tokenizer, messages: list[dict], markers) -> str:
    """The rendered conversation with the trained (assistant) tokens between ⟦ and ⟧."""
    from .data import tokenize_with_mask

    encoded = tokenize_with_mask(tokenizer, messages, markers)
    out, inside = [], False
    for token, trained in zip(encoded["input_ids"], encoded["assistant_masks"]):
        if trained != inside:
            out.append("⟦" if trained else "⟧")
            inside = bool(trained)
        out.append(tokenizer.decode([token]))
    return "".join(out) + ("⟧" if inside else "")


def sample_letter(model_name: str, adapter: str | Path | None = None, max_new_tokens: int = 200, **fields) -> str:
    """A letter from the base model, or the base model with a trained adapter (transformers; greedy)."""
    import torch
    from transformers import AutoModelForCausalLM

    profile = letter.make_profile(**{**SAMPLE_PROFILE, **fields})
    base = model_lib.resolve_model_path(model_name)
    tokenizer = model_lib.load_tokenizer(str(adapter or base))
    lm = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32 if not model_lib.cuda_available() else "auto")
    if adapter:
        from peft import PeftModel

        lm = PeftModel.from_pretrained(lm, str(adapter))
    ids = tokenizer.apply_chat_template(letter.build_messages(profile), add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True).to(lm.device)
    with torch.no_grad():
        out = lm.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=1.1)
    text = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    return letter.clean_letter(text, profile)


def try_gguf(path: str | Path, **fields) -> str:
    """A letter from an exported GGUF, written exactly as the Space writes it."""
    from .app import LetterWriter

    profile = letter.make_profile(**{**SAMPLE_PROFILE, **fields})
    writer = LetterWriter.for_gguf(Path(path))
    text = writer.write(profile)
    writer.close()
    return text


def publish_if_asked(result, push_to_hub: bool, hub_repo: str) -> None:
    """Push the export when asked and possible; without a token say so, and keep the files."""
    from .export import hub_token, publish

    if not push_to_hub:
        print(f"not pushing (push_to_hub = False); the files are in {result.out_dir}")
    elif not hub_repo:
        print(f"push_to_hub is on but hub_repo is empty: set it to 'your-name/model-name'; files kept in {result.out_dir}")
    elif not hub_token():
        print("no Hugging Face token: add the HF_TOKEN secret (the key icon in Colab's sidebar, with notebook "
              f"access) and run this cell again; the files are kept in {result.out_dir}")
    else:
        publish(result, hub_repo)
