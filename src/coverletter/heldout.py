"""Held-out FineTome conversations and how a GGUF model scores on them: export validates files with it, the
evaluation watches for forgetting. llama.cpp and numpy only: no torch, no transformers.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from pathlib import Path

from .config import DataArguments
from .data.sharegpt import load_rows
from .data.cleaning import clean

HELDOUT = Path(__file__).resolve().parents[2] / "data" / "finetome-heldout.jsonl"
MAX_TOKENS = 512  # per conversation: enough to score, small enough for one llama.cpp batch


def heldout_messages() -> list[list[dict]]:
    """The held-out FineTome conversations (never trained on) as chat messages."""
    examples, _ = clean(load_rows(str(HELDOUT)), DataArguments())
    return [e["messages"] for e in examples]


def heldout_token_ids(tokenizer) -> list[list[int]]:
    """The held-out conversations rendered with a transformers tokenizer's chat template and tokenized."""
    return [tokenizer.apply_chat_template(m, tokenize=True, return_dict=False)[:MAX_TOKENS]
            for m in heldout_messages()]


def gguf_heldout_token_ids(llm) -> list[list[int]]:
    """The same conversations rendered with the chat template stored in the GGUF; [] when it has none."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return []

    def text_of(token: int) -> str:
        return llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    formatter = Jinja2ChatFormatter(template, eos_token=text_of(llm.token_eos()), bos_token=text_of(llm.token_bos()))
    return [llm.tokenize(formatter(messages=m).prompt.encode(), add_bos=False, special=True)[:MAX_TOKENS]
            for m in heldout_messages()]


def gguf_heldout_loss(llm, gguf: Path) -> float:
    """Mean next-token loss of a GGUF on the held-out conversations; NaN when the file has no chat template."""
    sequences = gguf_heldout_token_ids(llm)
    return math.log(perplexity(gguf_logits(gguf, sequences), sequences)) if sequences else float("nan")


def gguf_logits(path: Path, sequences: list[list[int]]):
    """Per-position logits of a GGUF model on the same token ids (teacher forcing), one array per sequence."""
    import numpy as np
    from llama_cpp import Llama

    n_ctx = max(len(s) for s in sequences) + 8
    with redirect_c_output(Path(os.devnull)):
        llm = Llama(str(path), n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True, verbose=False,
                    n_threads=os.cpu_count())
    out = []
    for ids in sequences:
        llm.reset()
        llm.eval(ids)
        out.append(np.array(llm.scores[: len(ids)], dtype=np.float32))
    llm.close()
    return out


def perplexity(logits, sequences) -> float:
    import numpy as np

    nll, count = 0.0, 0
    for scores, ids in zip(logits, sequences):
        shifted = scores[:-1] - scores[:-1].max(-1, keepdims=True)
        logprobs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        nll -= logprobs[np.arange(len(ids) - 1), ids[1:]].sum()
        count += len(ids) - 1
    return float(np.exp(nll / count))


@contextlib.contextmanager
def redirect_c_output(log: Path):
    """Send what llama.cpp prints into a file: C code writes to fd 1 and 2, and llama-cpp-python's log callback to
    sys.stderr, which in a notebook is not fd 2."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("a") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
