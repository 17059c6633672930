"""Size, perplexity and speed of each GGUF format against the same model in transformers fp32, in one run.

    python benchmarks/quant_table.py [--run runs/demo] [--tokens 64] [--threads 2]

Exports the run (with F16 kept) into a scratch folder, timing the export, then for F16, Q8_0, Q5_K_M and Q4_K_M
measures file size, held-out perplexity, time to first token and decode tokens/s through llama-cpp-python
(same prompt, same number of generated tokens, end-of-text banned), and the merged model's decode speed in
transformers fp32 with the same threads. Prints a Markdown table and the ratios to transformers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

PROMPT = [{"role": "user", "content": "Write a short cover letter for Maria Lopez, a data analyst with SQL and "
                                      "Python skills, applying to Northwind Logistics."}]


def llama_cpp_speed(path: Path, prompt_ids: list[int], tokens: int, threads: int) -> tuple[float, float]:
    """(seconds to first token, decode tokens/s) for `tokens` greedy tokens."""
    from llama_cpp import Llama

    from coverletter.heldout import redirect_c_output

    with redirect_c_output(Path("/dev/null")):
        llm = Llama(str(path), n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    banned = {llm.token_eos(): -1e9}
    started = time.perf_counter()
    stamps = []
    for _ in llm.create_completion(prompt_ids, max_tokens=tokens, temperature=0.0, logit_bias=banned, stream=True):
        stamps.append(time.perf_counter())
    llm.close()
    return stamps[0] - started, (len(stamps) - 1) / (stamps[-1] - stamps[0])


def transformers_speed(merged: Path, prompt_ids: list[int], tokens: int, threads: int) -> tuple[float, float]:
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(threads)
    lm = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
    ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        started = time.perf_counter()
        lm.generate(ids, max_new_tokens=1, do_sample=False)
        first = time.perf_counter() - started
        started = time.perf_counter()
        lm.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        total = time.perf_counter() - started
    return first, (tokens - 1) / (total - first)


def main() -> None:
    from coverletter import export, heldout
    from coverletter.config import ExportArguments

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default="runs/demo", help="a training run (coverletter demo makes runs/demo)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="coverletter-quant-table-"))
    started = time.perf_counter()
    result = export.export_gguf(ExportArguments(run=args.run, f16=True, out=str(out), validate=False))
    export_seconds = time.perf_counter() - started
    merged = out / "merged"
    tokenizer = export.model_lib.load_tokenizer(str(merged))
    prompt_ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=True, return_dict=False)
    sequences = heldout.heldout_token_ids(tokenizer)

    hf_first, hf_rate = transformers_speed(merged, prompt_ids, args.tokens, args.threads)
    rows = []
    for name in ("F16", "Q8_0", "Q5_K_M", "Q4_K_M"):
        path = result.files[name]
        ppl = heldout.perplexity(heldout.gguf_logits(path, sequences), sequences)
        first, rate = llama_cpp_speed(path, prompt_ids, args.tokens, args.threads)
        rows.append((name, path.stat().st_size / 2**20, ppl, first, rate))

    print(f"\nexport of F16 + Q8_0 + Q5_K_M + Q4_K_M (merge, convert, quantize): {export_seconds:.1f} s "
          f"(goal <= 60 s); {args.threads} threads, prompt {len(prompt_ids)} tokens, {args.tokens} tokens generated\n")
    print("| format | size MB | held-out perplexity | time to first token s | decode tok/s | vs transformers fp32 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, size, ppl, first, rate in rows:
        print(f"| {name} (llama.cpp) | {size:.1f} | {ppl:.3f} | {first:.3f} | {rate:.1f} | {rate / hf_rate:.1f}x |")
    print(f"| fp32 (transformers) | {merged.joinpath('model.safetensors').stat().st_size / 2**20:.1f} | - | "
          f"{hf_first:.3f} | {hf_rate:.1f} | 1.0x |")
    q4 = next(r for r in rows if r[0] == "Q4_K_M")
    print(f"\nQ4_K_M decode / transformers fp32 decode: {q4[4] / hf_rate:.1f}x (goal >= 20x)")


if __name__ == "__main__":
    main()
