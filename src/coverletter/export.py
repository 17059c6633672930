"""GGUF export: merge the LoRA adapter, convert with llama.cpp's converter, quantize, validate (publishing: `hub`).

    coverletter export --run runs/demo --quant q4_k_m q5_k_m q8_0 [--f16] [--push_to USER/REPO] [--dry_run]

Everything is written in a scratch folder inside the output folder and renamed into place only when the
whole export (and its validation) succeeded, so a crash never leaves a half-written GGUF behind.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import model as model_lib
from . import hub, runs
from .config import QUANTS, ExportArguments, parse_export_args
from .errors import CheckFailed, UserError
from .heldout import gguf_logits, heldout_token_ids, perplexity, redirect_c_output

logger = logging.getLogger(__name__)

# Validation goals: top-1 next-token agreement of F16 with the merged HF model, of each quant with F16. They catch a
# broken file (agreement near chance), not the normal loss of a 4-8 bit model (measured: docs/benchmarks.md).
AGREEMENT_GOALS = {"F16": 0.98, "Q8_0": 0.90, "Q5_K_M": 0.80, "Q4_K_M": 0.80}
MAX_PERPLEXITY_RATIO = 1.5
BYTES_PER_PARAM = {"F16": 2.0, "Q8_0": 1.07, "Q5_K_M": 0.69, "Q4_K_M": 0.61}


@dataclass
class ExportResult:
    out_dir: Path
    files: dict[str, Path]  # quant -> GGUF path
    report: dict
    run_dir: Path
    adapter: Path
    upload_dir: Path | None = None

    @property
    def table(self) -> str:
        """The files as a markdown table: the validation's when it ran, else names and sizes."""
        if self.report.get("validation"):
            return report_markdown(self.report)
        return "| file | size MB |\n|---|---:|\n" + "".join(
            f"| {row['file']} | {row['size_mb']} |\n" for row in self.report["files"].values())


# --------------------------------------------------------------------------- checks before any heavy work


def find_adapter(run_dir: Path, checkpoint: int | None) -> Path:
    if not run_dir.is_dir():
        raise UserError(f"run folder not found: {run_dir}")
    if checkpoint is not None:
        return runs.complete_checkpoint(run_dir, checkpoint)
    if (runs.final_dir(run_dir) / "adapter_config.json").is_file():
        return runs.final_dir(run_dir)
    folder = runs.latest_complete_checkpoint(run_dir)
    if folder is None or not (folder / "adapter_config.json").is_file():
        raise UserError(f"no LoRA adapter in {run_dir}: expected final/adapter_config.json (train first)")
    logger.warning("no final/ adapter in %s: exporting %s", run_dir, folder.name)
    return folder


def base_model_of(run_dir: Path, adapter: Path) -> str:
    """The base model name as the recipe gave it (embedded:..., a Hub id or a path)."""
    info = runs.read_run_info(run_dir)
    if "base_model" in info:
        return info["base_model"]
    return json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"]


def check_adapter_fits(adapter: Path, base_path: str, config) -> None:
    """An adapter trained on another base model has LoRA matrices of other shapes: say so before merging."""
    from safetensors import safe_open

    weights = adapter / "adapter_model.safetensors"
    if not weights.is_file():
        raise UserError(f"{adapter} has no adapter_model.safetensors")
    with safe_open(str(weights), "pt") as f:
        for key in f.keys():
            if "lora_A" in key and ("q_proj" in key or "gate_proj" in key):
                in_features = f.get_slice(key).get_shape()[1]
                if in_features != config.hidden_size:
                    raise UserError(
                        f"adapter {adapter} does not fit base model {base_path}: its LoRA matrices take "
                        f"{in_features} features, the base model has hidden size {config.hidden_size}"
                    )
            layer = re.search(r"layers\.(\d+)\.", key)
            if layer and int(layer.group(1)) >= config.num_hidden_layers:
                raise UserError(f"adapter {adapter} has layer {layer.group(1)}; base model {base_path} has "
                                f"{config.num_hidden_layers} layers: it was trained on another model")


def check_quants(quants: list[str]) -> list[str]:
    names = [q.lower() for q in quants]
    unknown = [q for q in names if q not in QUANTS]
    if unknown:
        raise UserError(f"unknown quantization {', '.join(unknown)}; valid: {', '.join(QUANTS)}")
    return list(dict.fromkeys(names))


def check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as err:
        raise UserError(f"cannot write to output folder {out_dir}: {err.strerror or err}") from None


def base_parameter_count(config) -> int:
    h, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    kv = config.num_key_value_heads * (h // config.num_attention_heads)
    per_layer = h * (2 * h + 2 * kv) + 3 * h * inter
    return layers * per_layer + config.vocab_size * h * (1 if config.tie_word_embeddings else 2)


def check_disk(out_dir: Path, params: int, quants: list[str]) -> None:
    """The merged fp32 checkpoint, the F16 GGUF and the quants all exist at once before the rename."""
    need = params * (4 + BYTES_PER_PARAM["F16"] + sum(BYTES_PER_PARAM[QUANTS[q]] for q in quants)) * 1.1
    free = shutil.disk_usage(out_dir).free
    if free < need:
        raise UserError(f"not enough disk space in {out_dir}: the export needs about {need / 2**30:.1f} GiB, "
                        f"{free / 2**30:.1f} GiB free")


# --------------------------------------------------------------------------- merge, convert, quantize


def merge_adapter(base_path: str, adapter: Path, target: Path) -> None:
    """peft's merge_and_unload; fp16 on a GPU, fp32 on a CPU. Saves weights, tokenizer and chat template."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    dtype = torch.float16 if torch.cuda.is_available() else torch.float32
    base = model_lib.call_hub(AutoModelForCausalLM.from_pretrained, base_path, dtype=dtype)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(target)
    tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else base_path
    model_lib.load_tokenizer(str(tokenizer_source)).save_pretrained(target)


def convert_to_f16(merged: Path, target: Path, model_name: str, log: Path) -> None:
    """llama.cpp's own convert_hf_to_gguf (the packaged copy), in a subprocess: it brings its own gguf module."""
    command = [sys.executable, "-m", "convert_hf_to_gguf", str(merged), "--outtype", "f16",
               "--outfile", str(target), "--model-name", model_name]
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0 or not target.is_file():
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"llama.cpp's converter failed (exit {done.returncode}):\n" + "\n".join(tail))


def quantize(source: Path, target: Path, quant: str, log: Path) -> None:
    """llama.cpp's quantizer through llama-cpp-python; its C-level chatter goes to the log file."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{QUANTS[quant]}")
    params.nthread = os.cpu_count() or 1
    with redirect_c_output(log):
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    if status != 0 or not target.is_file():
        raise RuntimeError(f"llama.cpp could not quantize to {QUANTS[quant]} (status {status}); see {log}")


# --------------------------------------------------------------------------- validation


def hf_top1(merged: Path, sequences: list[list[int]]) -> list[list[int]]:
    import torch
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
    with torch.no_grad():
        return [lm(torch.tensor([ids])).logits[0].argmax(-1).tolist() for ids in sequences]


def agreement(a: list[list[int]], b: list[list[int]]) -> float:
    same = sum(x == y for sa, sb in zip(a, b) for x, y in zip(sa, sb))
    return same / sum(len(s) for s in a)


def generates(path: Path) -> tuple[str, int]:
    """A short chat completion from the file: its text and how many tokens it generated."""
    from llama_cpp import Llama

    with redirect_c_output(Path(os.devnull)):
        llm = Llama(str(path), n_ctx=512, verbose=False, n_threads=os.cpu_count())
    reply = llm.create_chat_completion([{"role": "user", "content": "Say hello in one short sentence."}],
                                       max_tokens=24, temperature=0.0)
    llm.close()
    return reply["choices"][0]["message"]["content"] or "", reply["usage"]["completion_tokens"]


def gguf_format(path: Path, tokenizer) -> dict:
    """What a GGUF says it is: architecture, vocabulary size, end-of-turn token, and whether its chat template
    is the tokenizer's own (llama.cpp formats every chat with it)."""
    from gguf import GGUFReader

    fields = GGUFReader(path).fields

    def value(key):
        return fields[key].contents() if key in fields else None

    vocab = len(fields["tokenizer.ggml.tokens"].data) if "tokenizer.ggml.tokens" in fields else 0
    eos = value("tokenizer.ggml.eos_token_id")
    found = {"architecture": value("general.architecture"), "vocab": vocab,
             "eos_token": tokenizer.convert_ids_to_tokens(eos) if eos is not None else None,
             "chat_template_kept": value("tokenizer.chat_template") == tokenizer.chat_template}
    found["ok"] = bool(found["chat_template_kept"] and vocab == len(tokenizer) and found["eos_token"])
    return found


def validate_files(merged: Path, files: dict[str, Path], tokenizer, random_weights: bool = False) -> dict:
    """Format (architecture, vocabulary, template), a real completion, and the quality checks: agreement with the
    merged HF model (F16) and with F16 (quants), and perplexity. On random weights (the offline stand-ins) the
    quality figures are reported but mean nothing, so they do not decide; format and generation still must pass."""
    sequences = heldout_token_ids(tokenizer)
    reference = hf_top1(merged, sequences)
    logits = {name: gguf_logits(path, sequences) for name, path in files.items()}
    top1 = {name: [scores.argmax(-1).tolist() for scores in per_seq] for name, per_seq in logits.items()}
    f16_perplexity = perplexity(logits["F16"], sequences)
    rows = {}
    for name, path in files.items():
        agree = agreement(top1[name], reference if name == "F16" else top1["F16"])
        ppl = perplexity(logits[name], sequences)
        sample, generated = generates(path)
        found = gguf_format(path, tokenizer)
        quality = agree >= AGREEMENT_GOALS[name] and ppl <= MAX_PERPLEXITY_RATIO * f16_perplexity
        rows[name] = {"file": path.name, "size_mb": round(path.stat().st_size / 2**20, 1),
                      "perplexity": round(ppl, 3), "top1_agreement": round(agree, 4),
                      "agreement_with": "HF merged" if name == "F16" else "F16",
                      "agreement_goal": AGREEMENT_GOALS[name], "sample": sample[:200], "generated_tokens": generated,
                      "format": found, "quality_checked": not random_weights,
                      "passed": (found["ok"] and generated > 0
                                 and (random_weights or (quality and bool(sample.strip()))))}
    return {"heldout_sequences": len(sequences), "heldout_tokens": sum(map(len, sequences)),
            "random_weights": random_weights, "files": rows}


def report_markdown(report: dict) -> str:
    validation = report["validation"]
    lines = ["| file | size MB | architecture | vocab | template kept | perplexity (held-out) | top-1 agreement | "
             "with | goal | passed |", "|---|---:|---|---:|---|---:|---:|---|---:|---|"]
    for row in validation["files"].values():
        found = row["format"]
        lines.append(f"| {row['file']} | {row['size_mb']} | {found['architecture']} | {found['vocab']:,} | "
                     f"{'yes' if found['chat_template_kept'] else 'NO'} | {row['perplexity']} | "
                     f"{row['top1_agreement']:.2%} | {row['agreement_with']} | {row['agreement_goal']:.0%} | "
                     f"{'yes' if row['passed'] else 'NO'} |")
    if validation.get("random_weights"):
        lines.append("\nThe base model has random weights (an offline stand-in): perplexity and agreement mean nothing "
                     "here and did not decide; loading, generation and the file's format did.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the whole export


def export_gguf(args: ExportArguments) -> ExportResult:
    """Export one training run to GGUF files (the notebook and `coverletter export` both call this)."""
    run_dir = Path(args.run)
    quants = check_quants(list(args.quant))
    adapter = find_adapter(run_dir, args.checkpoint)
    base_name = base_model_of(run_dir, adapter)
    base_path = model_lib.resolve_model_path(base_name)
    from transformers import AutoConfig

    base_config = model_lib.call_hub(AutoConfig.from_pretrained, base_path)
    check_adapter_fits(adapter, base_path, base_config)
    hub.check_push(args.push_to, args.dry_run)
    out_dir = Path(args.out) if args.out else runs.gguf_dir(run_dir)
    check_writable(out_dir)
    check_disk(out_dir, base_parameter_count(base_config), quants)
    name = args.model_name or f"{model_lib.display_name(base_name)}-{run_dir.resolve().name}"

    started = time.time()
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    try:
        logger.info("merging %s into %s", adapter, base_name)
        merged = scratch / runs.MERGED
        merge_adapter(base_path, adapter, merged)
        files = {"F16": scratch / f"{name}.F16.gguf"}
        logger.info("converting to GGUF F16 with llama.cpp's converter")
        convert_to_f16(merged, files["F16"], name, scratch / "convert.log")
        for q in quants:
            logger.info("quantizing to %s", QUANTS[q])
            files[QUANTS[q]] = scratch / f"{name}.{QUANTS[q]}.gguf"
            quantize(files["F16"], files[QUANTS[q]], q, scratch / "quantize.log")
        export_seconds = time.time() - started

        report = {"run": str(run_dir), "adapter": str(adapter), "base_model": base_name, "model_name": name,
                  "export_seconds": round(export_seconds, 1),
                  "files": {k: {"file": p.name, "size_mb": round(p.stat().st_size / 2**20, 1)}
                            for k, p in files.items()}}
        if args.validate:
            logger.info("validating %d files on held-out conversations", len(files))
            tokenizer = model_lib.load_tokenizer(str(merged))
            report["validation"] = validate_files(merged, files, tokenizer,
                                                  random_weights=model_lib.is_standin(base_name))
            (scratch / runs.EXPORT_REPORT_MD).write_text(report_markdown(report))
        (scratch / runs.EXPORT_REPORT).write_text(json.dumps(report, indent=1))
        failed = [k for k, row in report.get("validation", {}).get("files", {}).items() if not row["passed"]]
        if failed:
            os.replace(scratch / runs.EXPORT_REPORT, out_dir / runs.EXPORT_FAILED)
            raise CheckFailed(f"validation failed for {', '.join(failed)}; nothing was put in place. "
                                    f"Details: {out_dir / runs.EXPORT_FAILED}")
        kept = {k: p for k, p in files.items() if k != "F16" or args.f16}
        place_results(scratch, out_dir, kept)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    result = ExportResult(out_dir=out_dir, files={k: out_dir / p.name for k, p in kept.items()}, report=report,
                          run_dir=run_dir, adapter=adapter)
    if args.push_to:
        hub.publish_model(result, args.push_to, private=args.private, with_adapter=args.with_adapter,
                          dry_run=args.dry_run)
    return result


def place_results(scratch: Path, out_dir: Path, files: dict[str, Path]) -> None:
    """Rename the finished files into the output folder (same file system: each rename is atomic)."""
    for path in files.values():
        os.replace(path, out_dir / path.name)
    (out_dir / runs.EXPORT_FAILED).unlink(missing_ok=True)  # from an earlier, failed try
    for extra in (runs.EXPORT_REPORT, runs.EXPORT_REPORT_MD):
        if (scratch / extra).is_file():
            os.replace(scratch / extra, out_dir / extra)
    merged = out_dir / runs.MERGED
    shutil.rmtree(merged, ignore_errors=True)
    os.replace(scratch / runs.MERGED, merged)


def base_gguf(base_name: str, out_dir: str | Path) -> Path:
    """The base model as a GGUF of the served quant, made once with the same converter and quantizer as every export,
    so that letters before and after fine-tuning come through the same writer in the same format."""
    out_dir = Path(out_dir)
    name = model_lib.display_name(base_name)
    target = out_dir / f"{name}.{runs.SERVED_QUANT}.gguf"
    if target.is_file():
        return target
    source = model_lib.local_checkpoint(base_name)
    check_writable(out_dir)
    scratch = Path(tempfile.mkdtemp(prefix=".base-", dir=out_dir))
    try:
        convert_to_f16(source, scratch / f"{name}.F16.gguf", name, scratch / "convert.log")
        quantize(scratch / f"{name}.F16.gguf", scratch / target.name, runs.SERVED_QUANT.lower(),
                 scratch / "quantize.log")
        os.replace(scratch / target.name, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def main(argv: list[str]) -> ExportResult:
    """`coverletter export ARGS` (any option also from a recipe: --recipe R)."""
    return export_gguf(parse_export_args(argv))
