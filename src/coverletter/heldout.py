"""Held-out text and how a GGUF model scores on it: the FineTome conversations (export validates files with them,
the evaluation watches for forgetting) and the written letters' held-out split, each prompted as the app prompts
it (how close the model writes to them). llama.cpp and numpy only: no torch, no transformers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
from pathlib import Path

from . import chat, letter, runs
from .config import DataArguments
from .data.cleaning import clean
from .data.letters import HELDOUT as WRITTEN_HELDOUT, read_letters
from .data.sharegpt import load_rows

HELDOUT = runs.DATA / "finetome-heldout.jsonl"
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
    """The same conversations rendered as the letter writer renders a chat (`chat`); [] for a format it cannot."""
    formatter = chat.chat_formatter(llm)
    if formatter is None:
        return []
    return [chat.prompt_tokens(llm, formatter, m)[:MAX_TOKENS] for m in heldout_messages()]


def gguf_heldout_loss(llm, gguf: Path) -> float:
    """Mean next-token loss of a GGUF on the held-out conversations; NaN for a chat format it cannot render."""
    sequences = gguf_heldout_token_ids(llm)
    return remembered_loss(gguf, sequences) if sequences else float("nan")


def letter_token_ids(llm, pairs: list[tuple[str, letter.Profile]]) -> list[tuple[list[int], int]]:
    """Each letter after the app's own prompt for its profile: (tokens, where the letter starts)."""
    formatter = chat.chat_formatter(llm)
    if formatter is None:
        return []
    out = []
    for text, profile in pairs:
        prompt = chat.prompt_tokens(llm, formatter, letter.build_messages(profile))
        out.append((prompt + llm.tokenize(text.encode(), add_bos=False, special=False), len(prompt)))
    return out


def gguf_written_loss(llm, gguf: Path, path: Path = WRITTEN_HELDOUT) -> float:
    """The loss on the written letters' held-out split (never trained on), as the app prompts them."""
    return gguf_letter_loss(llm, gguf, read_letters(path)[0])


def gguf_letter_loss(llm, gguf: Path, pairs: list[tuple[str, letter.Profile]]) -> float:
    """Mean next-token loss on the letters alone, each prompted as the app prompts it: how close the model writes
    to them. NaN for a chat format it cannot render."""
    encoded = letter_token_ids(llm, pairs)
    if not encoded:
        return float("nan")
    return remembered_loss(gguf, [ids for ids, _ in encoded], [start for _, start in encoded])


def remembered_loss(gguf: Path, sequences: list[list[int]], starts: list[int] | None = None) -> float:
    """`mean_loss` of a GGUF on these tokens, kept beside the file (<name>.losses.json) under a key made of the
    file and the exact tokens: an evaluation's other passes, and later evaluations of the same model, read it back
    instead of scoring the same text again. A new prompt, template or held-out file makes new tokens, so a new key."""
    cache = gguf.with_name(gguf.name + ".losses.json")
    stat = gguf.stat()
    key = hashlib.sha256(json.dumps([gguf.name, stat.st_size, stat.st_mtime_ns, sequences, starts]).encode())
    known = read_losses(cache)
    if key.hexdigest() not in known:
        known[key.hexdigest()] = mean_loss(gguf_logits(gguf, sequences), sequences, starts)
        with contextlib.suppress(OSError):  # a read-only model folder only costs the time to score again
            cache.write_text(json.dumps(known, indent=1))
    return known[key.hexdigest()]


def read_losses(cache: Path) -> dict[str, float]:
    """The losses kept for one GGUF; a missing, unreadable or damaged file is an empty one."""
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


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


def mean_loss(logits, sequences, starts: list[int] | None = None) -> float:
    """Mean next-token loss over the sequences' tokens from each start on (all but the first by default)."""
    import numpy as np

    nll, count = 0.0, 0
    for scores, ids, start in zip(logits, sequences, starts or [1] * len(sequences)):
        shifted = scores[:-1] - scores[:-1].max(-1, keepdims=True)
        logprobs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        targets = np.arange(max(start, 1), len(ids))
        nll -= logprobs[targets - 1, np.array(ids)[targets]].sum()
        count += len(targets)
    return float(nll / count)


def perplexity(logits, sequences) -> float:
    return math.exp(mean_loss(logits, sequences))


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
