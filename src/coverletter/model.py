"""Base model and LoRA: resolve the model name, pick the backend, adapt GPU-only options on a CPU.

Backends:
- unsloth `FastLanguageModel` (fast path on a CUDA GPU, 4-bit): imported only there;
- transformers + peft, with bitsandbytes 4-bit when CUDA is present, plain fp32 on a CPU.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from . import standin
from .embedded import EMBEDDED_MODELS, EMBEDDED_PREFIX, embedded_gguf
from .errors import UserError, first_line
from .precision import cpu_has_native_bf16

logger = logging.getLogger(__name__)

# Options that need CUDA (bitsandbytes): quantized weights, and 8-bit or paged optimizers with their CPU stand-in
GPU_ONLY_FLAGS = ("load_in_4bit", "load_in_8bit")
GPU_ONLY_OPTIMIZERS = {"adamw_8bit": "adamw_torch", "paged_adamw_8bit": "adamw_torch", "adamw_bnb_8bit": "adamw_torch",
                       "paged_adamw_32bit": "adamw_torch"}


def cache_dir() -> Path:
    """Where converted checkpoints live: $COVERLETTER_CACHE, else the user cache dir."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("COVERLETTER_CACHE") or user_cache_dir("coverletter"))


# --------------------------------------------------------------------------- resolving names


def resolve_model_path(name: str) -> str:
    """A Hub id or local path stays as it is; `embedded:NAME` becomes a cached HF checkpoint on disk."""
    if not name.startswith(EMBEDDED_PREFIX):
        return name
    key = name[len(EMBEDDED_PREFIX):]
    if key in EMBEDDED_MODELS:
        return str(cached_checkpoint(key, dequantize_embedded))
    if key in standin.SHAPES:
        return str(cached_checkpoint(key, standin.build))
    raise UserError(f"unknown embedded model '{key}'; known: {', '.join([*EMBEDDED_MODELS, *standin.SHAPES])}")


def local_checkpoint(name: str) -> Path:
    """A folder holding the model's weights, config and tokenizer: a local path as it is, `embedded:` converted
    once, a Hub id downloaded (what llama.cpp's converter reads)."""
    path = resolve_model_path(name)
    if Path(path).is_dir():
        return Path(path)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(path, allow_patterns=["*.json", "*.safetensors", "tokenizer*", "*.jinja"]))
    except Exception as err:  # offline, no such repo, gated
        raise UserError(f"cannot download model '{path}' from the Hugging Face Hub "
                        f"({first_line(err, 160)}); "
                        "pass a local folder instead") from None


def display_name(name: str) -> str:
    """A short model name for files: 'embedded:smollm2-135m-instruct' -> 'smollm2-135m-instruct',
    'unsloth/Llama-3.2-1B-Instruct' -> 'Llama-3.2-1B-Instruct'."""
    return name.removeprefix(EMBEDDED_PREFIX).rstrip("/").split("/")[-1]


def embedded_metadata(name: str, key: str) -> str | None:
    """One metadata value of an embedded model's GGUF (e.g. general.license), read without loading the model."""
    from gguf import GGUFReader

    field = GGUFReader(embedded_gguf(name.removeprefix(EMBEDDED_PREFIX))).fields.get(key)
    return field.contents() if field else None


def embedded_license(name: str) -> str | None:
    """The license an embedded model states: its GGUF's general.license, or the stand-ins' own."""
    return standin.LICENSE if is_standin(name) else embedded_metadata(name, "general.license")


def is_standin(name: str) -> bool:
    """A base model with random weights (coverletter.standin): its outputs mean nothing."""
    return name.startswith(EMBEDDED_PREFIX) and name.removeprefix(EMBEDDED_PREFIX) in standin.SHAPES


def embedded_hub_id(name: str) -> str | None:
    """Where an embedded model's original lives (None for the stand-ins: their weights are nobody's)."""
    embedded = EMBEDDED_MODELS.get(name.removeprefix(EMBEDDED_PREFIX))
    return embedded.hub_id if embedded else None


def cached_checkpoint(key: str, build) -> Path:
    """The checkpoint `build(key, folder)` makes, made once and cached; the folder appears only once complete."""
    target = cache_dir() / "models" / key
    if (target / "config.json").is_file():
        return target
    logger.info("making the embedded model %s in %s (first run only)", key, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        build(key, scratch)
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        if not (target / "config.json").is_file():  # another process may have won the race
            raise
    return target


def dequantize_embedded(key: str, folder: Path) -> None:
    """The embedded GGUF as a normal HF checkpoint (safetensors + tokenizer).

    transformers loads a GGUF with `gguf_file=` but refuses to `save_pretrained` such a model, so the weights
    are copied into a fresh model built from its config.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf(key)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config
    del config.quantization_config  # the weights below are plain fp32 tensors, not GGUF blocks
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


# --------------------------------------------------------------------------- backend choice


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def unsloth_usable() -> bool:
    """unsloth's fast path needs a CUDA GPU and the package."""
    return cuda_available() and importlib.util.find_spec("unsloth") is not None


def choose_backend(requested: str) -> str:
    usable = unsloth_usable()
    if requested == "unsloth" and not usable:
        raise UserError("backend unsloth needs a CUDA GPU and `pip install unsloth`; use --backend transformers")
    return "unsloth" if requested in ("auto", "unsloth") and usable else "transformers"


def import_unsloth_if_usable() -> None:
    """unsloth patches transformers and trl when imported, so it must come before them: call this first thing.

    Decided on the hardware alone (the recipe is not parsed yet, and parsing imports trl).
    """
    if unsloth_usable():
        import unsloth  # noqa: F401


def gpu_only_options(model_args, training_args) -> list[str]:
    """The options a run sets that need a CUDA GPU: GPU_ONLY_FLAGS set, and 'optim' for a GPU-only optimizer."""
    optim = getattr(training_args.optim, "value", training_args.optim)  # an OptimizerNames (str) enum once parsed
    return [flag for flag in GPU_ONLY_FLAGS if getattr(model_args, flag)] + (
        ["optim"] if optim in GPU_ONLY_OPTIMIZERS else [])


TRL_TRAINS_ON_CPU = "1.16"


def adapt_to_device(model_args, training_args) -> list[str]:
    """On a CPU, replace GPU-only options with their CPU equivalents; return what was changed, to be logged."""
    if cuda_available():
        return []
    check_trl_trains_on_cpu()
    changes = []
    for option in gpu_only_options(model_args, training_args):
        if option == "optim":
            old = training_args.optim
            training_args.optim = type(old)(GPU_ONLY_OPTIMIZERS[old.value])
            changes.append(f"optim {old.value} -> {training_args.optim.value}")
        else:
            changes.append(f"{option} -> off (bitsandbytes needs CUDA; fp32 weights)")
            setattr(model_args, option, False)
    native_bf16 = cpu_has_native_bf16()
    for flag in ("fp16", "bf16"):
        if getattr(training_args, flag) and not (flag == "bf16" and native_bf16):
            changes.append(f"{flag} -> off (fp32: this CPU has no native {flag})")
            setattr(training_args, flag, False)
    return changes


def check_trl_trains_on_cpu() -> None:
    """trl before 1.16 computes SFTTrainer's loss only with a Triton kernel on a CUDA (or XPU) device; on a CPU it
    fails mid-step with an AttributeError. unsloth caps trl at 1.15, so a GPU install can meet a CPU."""
    from packaging.version import Version
    from trl import __version__ as trl_version

    if Version(trl_version) < Version(TRL_TRAINS_ON_CPU):
        raise UserError(f"trl {trl_version} cannot train without a CUDA GPU (its SFT loss is a Triton kernel; trl "
                        f"{TRL_TRAINS_ON_CPU} added the CPU path): pip install 'trl>={TRL_TRAINS_ON_CPU}', or train "
                        "on a GPU")


# --------------------------------------------------------------------------- loading


def load_tokenizer(model_path: str):
    from transformers import AutoTokenizer

    tokenizer = call_hub(AutoTokenizer.from_pretrained, model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise UserError(f"tokenizer of {model_path} has no chat template; use an -Instruct model")
    return tokenizer


def call_hub(load, model_path: str, **kwargs):
    """Run a from_pretrained call; turn 'not on disk and the Hub unreachable' into a clear error."""
    try:
        return load(model_path, **kwargs)
    except OSError as err:
        raise UserError(
            f"cannot load model '{model_path}': it is not a local folder and the Hugging Face Hub could not provide "
            f"it ({first_line(err, 160)}). Offline, pass a local path (--model_name_or_path /path/to/model) "
            "or embedded:smollm2-135m-instruct"
        ) from None


def load_for_training(model_args, training_args, backend: str):
    """(model, tokenizer, peft_config): peft_config is None when the model already carries its LoRA (unsloth)."""
    from trl import get_peft_config

    model_path = resolve_model_path(model_args.model_name_or_path)
    if backend == "unsloth":
        return load_unsloth(model_path, model_args, training_args)
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": model_args.dtype or "auto"}
    if model_args.load_in_4bit or model_args.load_in_8bit:
        kwargs["quantization_config"] = bitsandbytes_config(model_args)
    if model_args.attn_implementation:
        kwargs["attn_implementation"] = model_args.attn_implementation
    tokenizer = load_tokenizer(model_path)
    model = call_hub(AutoModelForCausalLM.from_pretrained, model_path, **kwargs)
    if not cuda_available():
        model = model.float()  # bf16/fp16 checkpoints are slow or unsupported for training on a CPU
    return model, tokenizer, get_peft_config(model_args)


def bitsandbytes_config(model_args):
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=model_args.load_in_4bit,
        load_in_8bit=model_args.load_in_8bit,
        bnb_4bit_quant_type=model_args.bnb_4bit_quant_type,
        bnb_4bit_use_double_quant=model_args.use_bnb_nested_quant,
        bnb_4bit_compute_dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16,
    )


def load_unsloth(model_path: str, model_args, training_args):
    """unsloth's fast path, as in its Colab notebooks (GPU only; not exercised by the CPU test suite)."""
    from unsloth import FastLanguageModel

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=model_path,
        max_seq_length=training_args.max_length,
        dtype=None,
        load_in_4bit=model_args.load_in_4bit,
    )
    target_modules = model_args.lora_target_modules
    model = FastLanguageModel.get_peft_model(
        model,
        r=model_args.lora_r,
        lora_alpha=model_args.lora_alpha,
        lora_dropout=model_args.lora_dropout,
        target_modules=[target_modules] if isinstance(target_modules, str) else target_modules,
        bias="none",
        use_gradient_checkpointing="unsloth",
        random_state=training_args.seed,
        use_rslora=model_args.use_rslora,
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # unsloth's own offloaded checkpointing is already on
    training_args.activation_checkpointing = training_args.gradient_checkpointing = False
    return model, tokenizer, None
