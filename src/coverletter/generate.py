"""Letters from a GGUF through llama.cpp: find and load the model, keep the prompts' shared start evaluated, decode
in one thread with the guards (`guards`, `steering`).

`LetterWriter` is the one path from a profile to a letter: the page, the API, `coverletter evaluate`, the
notebook and the benchmarks all write through it, with the same settings and defaults.

Model, in order: MODEL_PATH (a local GGUF) -> MODEL_REPO + MODEL_FILE (default *Q8_0.gguf) from the Hub ->
the newest local export (runs/*/gguf/*.Q8_0.gguf) -> the embedded SmolLM2 GGUF. Imports neither torch nor
transformers: the Space runs on a free CPU with llama-cpp-python alone.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

from . import chat, letter, runs
from .errors import UserError, first_line
from .embedded import embedded_gguf
from .guards import processors

logger = logging.getLogger(__name__)

CONTEXT_TOKENS = 2048  # the prompt with a full job ad plus the longest letter
# Flash attention and 256-token batches: faster and smaller compute buffers than llama.cpp's defaults on a CPU.
# The weights are read into memory, not mapped: llama.cpp repacks Q4_K weights for the CPU, and a mapped file would
# keep the unpacked copy resident beside them (docs/benchmarks.md).
LLAMA_SETTINGS = {"n_ctx": CONTEXT_TOKENS, "n_batch": 256, "n_ubatch": 256, "flash_attn": True, "use_mmap": False,
                  "verbose": False}
UPDATE_SECONDS = 0.05  # at most 20 streamed updates a second: each costs a clean-up and a message to the browser
REPEAT_PENALTY = 1.1  # llama.cpp's penalty on tokens of the last 64
TOKENS_PER_WORD = 1.4  # room to keep free in the context for a letter of the requested length


@dataclass
class LoadedModel:
    llm: object  # llama_cpp.Llama
    description: str  # what the UI says is serving


class ModelNotFound(RuntimeError):
    """No usable GGUF: the message names what was tried and how to fix it."""


class InputTooLong(ValueError):
    """The prompt leaves no room in the model's context for the letter; the message says what to shorten."""


# --------------------------------------------------------------------------- the model


def llama_settings() -> dict:
    return {**LLAMA_SETTINGS, "n_threads": os.cpu_count() or 1}


def open_gguf(path: Path, description: str | None = None) -> LoadedModel:
    """Load a GGUF with the app's settings; Llama models without a chat template in the file get Llama 3's."""
    from llama_cpp import Llama

    if not path.is_file():
        raise ModelNotFound(f"{path} does not exist: point MODEL_PATH at a .gguf file (coverletter export makes one)")
    try:
        llm = Llama(str(path), **llama_settings())
    except (ValueError, RuntimeError) as err:
        raise ModelNotFound(f"{path} could not be loaded as a GGUF model ({err}); re-export it or pick another "
                            "file with MODEL_PATH") from None
    return with_chat_format(llm, description or path.name)


def with_chat_format(llm, description: str) -> LoadedModel:
    chat.use_llama3_without_template(llm)
    return LoadedModel(llm, description)


def load_model(env: dict | None = None) -> LoadedModel:
    env = os.environ if env is None else env
    if env.get("MODEL_PATH"):
        path = Path(env["MODEL_PATH"])
        return open_gguf(path, f"{path.name} (MODEL_PATH)")
    if env.get("MODEL_REPO"):
        return load_from_hub(env["MODEL_REPO"], env.get("MODEL_FILE", runs.SERVED_FILE))
    return load_local()


def load_from_hub(repo: str, pattern: str) -> LoadedModel:
    """The GGUF from a Hub repo; a local model, said so, when the Hub cannot provide it."""
    from llama_cpp import Llama

    try:
        llm = Llama.from_pretrained(repo_id=repo, filename=pattern, **llama_settings())
    except Exception as err:  # offline, no such repo, no matching file
        reason = first_line(err)
        logger.warning("could not fetch %s %s from the Hub (%s); falling back to a local model", repo, pattern, reason)
        try:
            fallback = load_local()
        except ModelNotFound as missing:
            raise ModelNotFound(f"could not fetch {pattern} from the Hub repo {repo} ({reason}), "
                                f"and {missing}") from None
        fallback.description += f" — fallback: {repo} could not be reached"
        return fallback
    return with_chat_format(llm, f"{repo} / {pattern} (Hub)")


def load_local() -> LoadedModel:
    """The newest local export, else the embedded base model."""
    exports = runs.latest_exports()
    if exports:
        return open_gguf(exports[0], f"{exports[0].name} (latest export)")
    try:
        path = embedded_gguf("smollm2-135m-instruct")
    except UserError as err:
        raise ModelNotFound(f"there is no model to serve: no MODEL_PATH, no export in runs/ and no embedded model "
                            f"({err}). Set MODEL_PATH to a .gguf file or MODEL_REPO to a Hub repo") from None
    return open_gguf(path, f"{path.name} (embedded base model, not fine-tuned)")


# --------------------------------------------------------------------------- the shared prompt prefix


class SharedPrefix:
    """Keeps the start that every prompt shares (the system turn and `letter.PROMPT_START`) evaluated on its own,
    so that a letter depends only on its own prompt and that start is evaluated once.

    llama-cpp-python reuses the longest cached match with the last prompt and evaluates the rest: where that match
    ends depends on the letter before, the rest is evaluated in other batches whose rounding differs, and a greedy
    letter would change with it. Here the cache is cut back to exactly the shared start, which is always evaluated
    alone, so every prompt's remainder is evaluated from the same point in the same batches."""

    def __init__(self, llm):
        self.llm, self.formatter, self.evaluated = llm, chat.chat_formatter(llm), None

    def prepare(self, messages: list[dict]) -> None:
        """Leave the model holding the messages' shared start, and nothing after it."""
        llm = self.llm
        if self.formatter is None:  # a chat format we cannot render: evaluate every prompt from the start
            llm.reset()
            return
        prefix = self.shared_start(messages)
        if prefix == self.evaluated and llm.n_tokens >= len(prefix) and list(llm.input_ids[:len(prefix)]) == prefix:
            llm.n_tokens = len(prefix)
        else:
            llm.reset()
            llm.eval(prefix)
            self.evaluated = prefix

    def shared_start(self, messages: list[dict]) -> list[int]:
        """The prompt's tokens up to where the applicant's details begin."""
        tokens = self.tokens(messages)
        bare = self.tokens([*messages[:-1], {"role": "user", "content": letter.PROMPT_START}])
        shared = next((i for i, (a, b) in enumerate(zip(tokens, bare)) if a != b), min(len(tokens), len(bare)))
        return tokens[:shared]

    def tokens(self, messages: list[dict]) -> list[int]:
        """The prompt's tokens exactly as llama-cpp-python's chat completion evaluates them."""
        return chat.prompt_tokens(self.llm, self.formatter, messages)


# --------------------------------------------------------------------------- decoding


class LlamaThread:
    """The one thread that runs llama.cpp for a model, letter after letter.

    llama.cpp's threads meet at OpenMP barriers, and libgomp spins at them only while the process has no more
    OpenMP threads than cores. Each thread that ever calls llama.cpp keeps a team of its own, so a new thread per
    letter (and another for the prompt) made libgomp sleep and wake at every barrier instead, and the app decoded
    slower than the same model called from one thread (docs/benchmarks.md)."""

    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self.serve, daemon=True, name="llama.cpp").start()

    def serve(self) -> None:
        while (job := self.jobs.get()) is not None:
            job()

    def submit(self, job) -> None:
        self.jobs.put(job)

    def close(self) -> None:
        self.jobs.put(None)


class Decoding:
    """One streamed chat completion, decoded on the writer's llama.cpp thread into `text`.

    Gradio pulls a generator's items one call at a time from its worker threads; decoding inside the generator
    would pause llama.cpp for every hand-off. Here the page reads `text` when it likes and decoding goes on."""

    def __init__(self, llm, prefix: SharedPrefix, messages: list[dict], temperature: float, max_new_tokens: int,
                 processors: list, thread: LlamaThread):
        self.text, self.error = "", None
        self.started, self.finished, self.stopping = threading.Event(), threading.Event(), threading.Event()
        settings = dict(stream=True, temperature=temperature, max_tokens=max_new_tokens, repeat_penalty=REPEAT_PENALTY,
                        logits_processor=processors)
        thread.submit(lambda: self.run(llm, prefix, messages, settings))

    def run(self, llm, prefix: SharedPrefix, messages: list[dict], settings: dict) -> None:
        chunks = None
        try:
            prefix.prepare(messages)
            chunks = llm.create_chat_completion(messages, **settings)
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content") or ""
                self.text += piece
                if piece:
                    self.started.set()
                if self.stopping.is_set():
                    break
        except Exception as err:  # handed to the reader, who reports it
            self.error = err
        finally:
            if chunks is not None:
                chunks.close()
            self.started.set()
            self.finished.set()

    def stop(self) -> None:
        self.stopping.set()
        self.finished.wait()


class LetterWriter:
    """One model instance, one letter at a time (the lock also guards direct Python callers).

        with LetterWriter.for_gguf(path) as writer:
            text = writer.write(profile)
    """

    def __init__(self, model: LoadedModel):
        self.model = model
        self.lock = threading.Lock()
        self.prefix = SharedPrefix(model.llm)
        self.thread = LlamaThread()

    @classmethod
    def for_gguf(cls, path: Path) -> LetterWriter:
        """A writer on one GGUF file with the app's llama.cpp settings (the evaluation, the notebook)."""
        return cls(open_gguf(Path(path)))

    def __enter__(self) -> LetterWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.thread.close()
        self.model.llm.close()

    def stream(self, profile: letter.Profile, system_message: str | None = None,
               temperature: float = letter.DEFAULT_TEMPERATURE, max_new_tokens: int | None = None,
               steer_length: bool = True):
        """Yield the cleaned letter so far as it grows: at the first token, then every UPDATE_SECONDS, then once at
        the end. llama.cpp decodes in its own thread meanwhile, so it never waits for an update to reach the page.
        max_new_tokens None (or 0): the budget of the profile's length. steer_length=False lets the model alone
        decide how long the letter is (the evaluation's comparison)."""
        messages = letter.build_messages(profile, system_message)
        budget = int(max_new_tokens or letter.MAX_NEW_TOKENS[profile.length])
        with self.lock:
            self.check_room(messages, profile)
            decoding = Decoding(self.model.llm, self.prefix, messages, float(temperature), budget,
                                processors(self.model.llm, profile, steer_length), self.thread)
            try:
                decoding.started.wait()
                shown = ""
                while True:
                    finished = decoding.finished.is_set()
                    if decoding.text.strip() and decoding.text != shown and not finished:
                        shown = decoding.text
                        yield letter.clean_letter(shown, profile, finished=False)
                    if finished or decoding.finished.wait(UPDATE_SECONDS):
                        break
            finally:  # also when the page stops the stream (Stop, closed tab): end the decoding first
                decoding.stop()
        if decoding.error:
            raise decoding.error
        yield letter.clean_letter(decoding.text, profile) if decoding.text.strip() else ""

    def write(self, profile: letter.Profile, temperature: float = letter.DEFAULT_TEMPERATURE, steer_length: bool = True,
              system_message: str | None = None, max_new_tokens: int | None = None) -> str:
        """The whole letter at once, through the same path as the form."""
        text = ""
        for text in self.stream(profile, system_message, temperature, max_new_tokens, steer_length):
            pass
        return text

    def check_room(self, messages: list[dict], profile: letter.Profile) -> None:
        llm = self.model.llm
        prompt = sum(len(llm.tokenize(m["content"].encode(), add_bos=False)) for m in messages) + 32  # + template
        needed = int(letter.LENGTHS[profile.length][1] * TOKENS_PER_WORD)
        if prompt + needed > llm.n_ctx():
            raise InputTooLong(
                f"The form's text is too long for this model: about {prompt:,} tokens, leaving no room in its "
                f"{llm.n_ctx():,}-token context for a {profile.length} letter (about {needed} tokens). Shorten the "
                "job description, the résumé, the skills or the reasons, or choose a shorter length.")
