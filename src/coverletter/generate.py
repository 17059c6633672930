"""Letters from a GGUF through llama.cpp: find and load the model, steer the length, decode in a thread.

`LetterWriter` is the one path from a profile to a letter: the page, the API, `coverletter evaluate`, the
notebook and the benchmarks all write through it, with the same settings and defaults.

Model, in order: MODEL_PATH (a local GGUF) -> MODEL_REPO + MODEL_FILE (default *Q8_0.gguf) from the Hub ->
the newest local export (runs/*/gguf/*.Q8_0.gguf) -> the embedded SmolLM2 GGUF. Imports neither torch nor
transformers: the Space runs on a free CPU with llama-cpp-python alone.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy

from . import chat, letter, rubric, runs
from .config import UserError, first_line
from .model import embedded_gguf

logger = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = f"*{runs.SERVED_QUANT}.gguf"
CONTEXT_TOKENS = 2048  # the prompt with a full job ad plus the longest letter
# Flash attention and 256-token batches: faster and smaller compute buffers than llama.cpp's defaults on a CPU.
# The weights are read into memory, not mapped: llama.cpp repacks Q4_K weights for the CPU, and a mapped file would
# keep the unpacked copy resident beside them (docs/benchmarks.md).
LLAMA_SETTINGS = {"n_ctx": CONTEXT_TOKENS, "n_batch": 256, "n_ubatch": 256, "flash_attn": True, "use_mmap": False,
                  "verbose": False}
UPDATE_SECONDS = 0.05  # at most 20 streamed updates a second: each costs a clean-up and a message to the browser
REPEAT_PENALTY = 1.1  # llama.cpp's penalty on tokens of the last 64
LINE_BREAK_PENALTY = 1000.0  # logit off line breaks while a paragraph should go on: a ban (docs/experiments.md)
LINE_END_BONUS = 4.0  # logit onto line breaks when a line should end
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
        return load_from_hub(env["MODEL_REPO"], env.get("MODEL_FILE", DEFAULT_MODEL_FILE))
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


# --------------------------------------------------------------------------- steering


def processors(llm, profile: letter.Profile, steer_length: bool = True) -> list:
    """What every letter is decoded with: the guards on facts and names, the length steering unless it is left
    out, and the signature last, whose choice is final. They read the letter through one `AnswerReader`."""
    reader = AnswerReader(llm)
    steering = [LengthSteering(llm, profile, reader)] if steer_length else []
    return [FactGuard(llm, profile, reader), NameGuard(llm, profile, reader), *steering,
            Signature(llm, profile, reader)]


class AnswerReader:
    """The letter's text so far, from the token ids a llama.cpp logits processor is given at each step."""

    def __init__(self, llm):
        self.llm, self.read, self.answer = llm, None, b""  # tokens read (the prompt on the first call); bytes

    def text(self, input_ids) -> str:
        if self.read is not None:
            self.answer += self.llm.detokenize(list(input_ids[self.read:]))
        self.read = len(input_ids)
        return self.answer.decode("utf-8", errors="ignore")


class LengthSteering:
    """A llama.cpp logits processor that holds a letter to its requested length, the way the synthetic letters vary
    theirs, by the sentences in each paragraph: while a paragraph should go on (`letter.needs_more_words`), line
    breaks cost LINE_BREAK_PENALTY, so it gets one more sentence; while a closing begun now would leave the letter
    short (`letter.closing_too_soon`), no paragraph opens as a closing (`letter.CLOSING_STARTS`), thanks the reader
    or signs off; when only a closing still fits, or a sign-off line is whole (`letter.needs_line_end`), line breaks
    gain LINE_END_BONUS; once one more paragraph would pass the range (`letter.sign_off_due`), the next line can
    only be a sign-off, its first word spelled out ("Sincerely", "Yours", "Thank", ...)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader | None = None):
        self.llm, self.profile = llm, profile
        tables = vocabulary_tables(llm)
        self.letters = tables.letters
        self.sign_off_next = {}  # a sign-off's first word so far -> the tokens that go on with it
        for word in letter.SIGN_OFF_STARTS:
            tokens = llm.tokenize(word.encode(), add_bos=False, special=False)
            for k, token in enumerate(tokens):
                self.sign_off_next.setdefault(llm.detokenize(tokens[:k]).decode(errors="ignore"), []).append(token)
        self.line_break_tokens = line_break_tokens(llm)
        self.closing_words = {start: tables.tokens_of(words)  # "I would" -> " welcome", ...
                              for start, words in letter.CLOSING_STARTS.items()}
        self.closing_words[""] += tables.tokens_of(word.lower() for word in letter.SIGN_OFF_STARTS)  # nor sign off
        self.thanks = tables.tokens_of(letter.CLOSING_STARTS[""])
        self.reader = reader or AnswerReader(llm)

    def __call__(self, input_ids, scores):
        raw = self.reader.text(input_ids)
        text = letter.clean_letter(raw, finished=False) + raw[len(raw.rstrip()):]  # as shown: repeats do not count
        line = text.split("\n")[-1]
        if letter.closing_too_soon(text, self.profile):  # no closing words, no thanks anywhere yet
            scores[self.thanks] = -math.inf
            scores[self.closing_words.get(line.strip(), [])] = -math.inf
        if letter.needs_more_words(text, self.profile):
            scores[self.line_break_tokens] -= LINE_BREAK_PENALTY
        elif (line in self.sign_off_next or line in letter.SIGN_OFF_STARTS) and letter.sign_off_due(text, self.profile):
            self.spell_sign_off(line, scores)
        elif letter.needs_line_end(text, self.profile):
            scores[self.line_break_tokens] += LINE_END_BONUS
        return scores

    def spell_sign_off(self, line: str, scores) -> None:
        """A sign-off's first word, token by token from the line's start ("Y", "ours"), and then the word ends."""
        going_on = self.sign_off_next.get(line, [])  # "Warm" may end, or go on to "Warmly"
        keep_only(scores, going_on, among=self.letters if line in letter.SIGN_OFF_STARTS else slice(None))


def keep_only(scores, tokens, among=slice(None)) -> None:
    """Rule out every token in `among` (all of them by default) except `tokens`, whose scores stay as they were."""
    kept = scores[tokens].copy()
    scores[among] = -math.inf
    scores[tokens] = kept


class FactGuard:
    """A llama.cpp logits processor that keeps numbers and job ads the profile does not hold off the page: a
    token may start or extend a number only toward one that the profile or the ad states ("5 years" allows "5",
    never "50" or "12"), and a number begun must be finished ("2017" allows "2017", never "20 years"); a number
    word only for such a number; and without an ad the words that cite one ("advertisement", "posting", ...) are
    out. The model still chooses every word; the rubric's `faithful` rule counts what the guards cannot see
    (degrees, names at the start of a sentence)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader | None = None):
        source = rubric.source_text(profile)
        self.allowed = sorted(rubric.numbers(source))
        tables = vocabulary_tables(llm)
        out = {word for word in rubric.NUMBER_WORDS if word != "one"  # a pronoun as often as a number
               and str(rubric.NUMBER_WORDS[word]) not in self.allowed}
        if not profile.job_description:
            out |= AD_WORDS
        known = rubric.word_set(source)  # a token may also start a longer word: not one the profile uses
        self.banned = tables.tokens_of(word for word in out if not any(k.startswith(word) for k in known))
        self.ad_nouns = [] if profile.job_description else tables.tokens_of(AD_NOUNS)
        self.digit_ids, self.digits, self.joins = tables.digit_ids, tables.digits, tables.joins
        self.starts = self.leading_to(self.allowed)  # a new number: the start of one the profile states
        self.reader = reader or AnswerReader(llm)

    def leading_to(self, numbers: list[str]) -> numpy.ndarray:
        """Which digit tokens begin one of these numbers."""
        return numpy.array([any(n.startswith(d) for n in numbers) for d in self.digits], dtype=bool)

    def __call__(self, input_ids, scores):
        scores[self.banned] = -math.inf
        text = self.reader.text(input_ids)
        if AD_CITED.search(text):  # "the job", "your": not "ad" or "description" next without an ad
            scores[self.ad_nouns] = -math.inf
        run = re.search(r"\d[\d,.]*$", text)
        allowed = self.starts
        if run:  # a token starting with a digit goes on this number: toward the rest of one the profile states
            written = run.group(0).replace(",", "")
            rest = [n[len(written):] for n in self.allowed if n.startswith(written)]
            allowed = numpy.where(self.joins, self.leading_to(rest), self.starts)
            going_on = self.digit_ids[self.joins & allowed]
            if written.rstrip(".") not in self.allowed and len(going_on):  # "20" of "2017": 2017, not "20 years"
                keep_only(scores, going_on)
                return scores
        scores[self.digit_ids[~allowed]] = -math.inf
        return scores


class NameGuard:
    """A llama.cpp logits processor that keeps names the profile does not hold off the page, read as the rubric
    reads them: a capitalized word inside a sentence must spell a word of the profile or the ad, in any case, or
    one that any letter may capitalize (`rubric.name_words`). "Git" may not grow into "GitHub", nor "Moder" into
    "Modered"; the greeting line and the first word of a sentence are free."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader | None = None):
        self.tables = vocabulary_tables(llm)
        self.words = rubric.name_words(profile)
        prefixes = {word[:k] for word in self.words for k in range(1, len(word) + 1)}
        fits = numpy.array([word in self.words if whole else word in prefixes
                            for word, whole in zip(self.tables.capital_words, self.tables.capital_whole)], dtype=bool)
        self.out_spaced = self.tables.capitals[~fits & self.tables.capital_spaced]  # " GitHub": a new word
        self.out_joined = self.tables.capitals[~fits & ~self.tables.capital_spaced]  # "GitHub" after "/" or "-"
        self.reader = reader or AnswerReader(llm)

    def __call__(self, input_ids, scores):
        text = self.reader.text(input_ids)
        if "\n" not in text:
            return scores
        run = re.search(r"[A-Za-z0-9_]+\Z", text)
        if run and run.group(0)[0].isupper() and not rubric.starts_sentence(text[:run.start()]):
            self.spell(run.group(0).lower(), scores)
        if not rubric.starts_sentence(text + " "):
            scores[self.out_spaced] = -math.inf
        if not run and not rubric.starts_sentence(text):
            scores[self.out_joined] = -math.inf
        return scores

    def spell(self, written: str, scores) -> None:
        """Inside a capitalized word: only tokens that go on toward one of the words, and an end only to a whole one."""
        going = [token for word in self.words if word.startswith(written) and word != written
                 for token in pieces_toward(self.tables, word[len(written):])]
        if not going and written not in self.words:  # begun where the guard could not see it: the rubric's to judge
            return
        keep_only(scores, going, among=self.tables.letters if written in self.words else slice(None))

class Signature:
    """A llama.cpp logits processor that signs the letter with the applicant's name as given: once a sign-off line
    ("Kind regards,") ends, the next line is the name and the letter ends with it. Small models misspell the
    name there, sign as someone else ("Ibid."), or go on."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader | None = None):
        tokens = llm.tokenize(profile.name.encode(), add_bos=False, special=False)
        self.next = {llm.detokenize(tokens[:k]): token for k, token in enumerate(tokens)}  # name so far -> next
        self.next[llm.detokenize(tokens)] = llm.token_eos()
        self.name = profile.name.lower()
        self.reader = reader or AnswerReader(llm)

    def __call__(self, input_ids, scores):
        self.reader.text(input_ids)
        *_, sign_off, line = [b"", *self.reader.answer.split(b"\n")]  # bytes: a name may end inside a character
        sign_off = sign_off.decode("utf-8", errors="ignore")
        if line in self.next and letter.is_sign_off(sign_off) and self.name not in sign_off.lower():
            token = self.next[line]
            scores[:] = -math.inf
            scores[token] = 0.0
        return scores


def pieces_toward(tables: VocabularyTables, rest: str) -> list[int]:
    """Tokens that spell the start of `rest` (lower-case, any case in the token), or all of it and then end."""
    tokens = []
    for k in range(1, len(rest) + 1):
        going_on, ending = tables.pieces.get(rest[:k], ((), ()))
        tokens += [*going_on, *(ending if k == len(rest) else ())]
    return tokens


# not "ad" everywhere: as a token it also starts names ("Adaeze") and words, and banning it changed them
# (docs/experiments.md); only where it would cite an ad ("the job ad")
AD_WORDS = {"advertisement", "advertisements", "advert", "adverts", "posting", "postings", "listing"}
AD_NOUNS = {"ad", "ads", "description", "post"}  # out only after AD_CITED's words: elsewhere they are ordinary
AD_CITED = re.compile(r"\b(?:job|your|the|this)\Z", re.IGNORECASE)


@dataclass(frozen=True)
class VocabularyTables:
    digit_ids: numpy.ndarray  # tokens with a digit in them
    digits: list[str]  # each one's digits, in order ("1,2" -> "12")
    joins: numpy.ndarray  # whether it starts with a digit, so it goes on a number just written
    words: dict[str, list[int]]  # lower-case whole words -> the tokens that are that word (" Five", "five", ...)
    capitals: numpy.ndarray  # tokens that start a capitalized word (" Git", "Git")
    capital_words: list[str]  # each one's word part, lower-case ("git")
    capital_whole: numpy.ndarray  # whether the token also ends that word ("Git," or " Git ")
    capital_spaced: numpy.ndarray  # whether a space comes first, so it starts a new word wherever it goes
    letters: numpy.ndarray  # tokens that start with a letter or digit: they go on a word just written
    pieces: dict[str, tuple[list[int], list[int]]]  # letter tokens by word part: (those all word, those that end it)

    def tokens_of(self, words) -> list[int]:
        """The tokens that are one of these lower-case whole words, with or without a space or a capital."""
        return [token for word in words for token in self.words.get(word, [])]


@functools.cache
def vocabulary_tables(llm) -> VocabularyTables:
    """The guard's view of the vocabulary, built once per model."""
    digit_ids, digits, joins, words = [], [], [], {}
    capitals, capital_words, capital_whole, capital_spaced, letters, pieces = [], [], [], [], [], {}
    for token in range(llm.n_vocab()):
        text = llm.detokenize([token]).decode("utf-8", errors="ignore")
        if any(ch.isdigit() for ch in text):
            digit_ids.append(token)
            digits.append("".join(ch for ch in text if ch.isdigit() or ch == "."))
            joins.append(text[:1].isdigit())
        elif text.strip().isalpha():
            words.setdefault(text.strip().lower(), []).append(token)
        if word := WORD_PIECE.match(text):
            space, part, after = word.groups()
            if part[0].isupper():
                capitals.append(token)
                capital_words.append(part.lower())
                capital_whole.append(bool(after))
                capital_spaced.append(bool(space))
            if not space:
                letters.append(token)
                pieces.setdefault(part.lower(), ([], []))[bool(after)].append(token)
    return VocabularyTables(numpy.array(digit_ids, dtype=int), digits, numpy.array(joins, dtype=bool), words,
                            numpy.array(capitals, dtype=int), capital_words, numpy.array(capital_whole, dtype=bool),
                            numpy.array(capital_spaced, dtype=bool), numpy.array(letters, dtype=int), pieces)


WORD_PIECE = re.compile(r"(\s*)([A-Za-z0-9_]+)(.?)", re.DOTALL)  # a token's leading space, word part, what follows


@functools.cache
def line_break_tokens(llm) -> list[int]:
    """The vocabulary's tokens that hold a line break (looked up once per model)."""
    return [token for token in range(llm.n_vocab()) if b"\n" in llm.detokenize([token])]


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

    def stream(self, profile: letter.Profile, system_message: str | None = None, temperature: float = 0.0,
               max_new_tokens: int | None = None, steer_length: bool = True):
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

    def write(self, profile: letter.Profile, temperature: float = 0.0, steer_length: bool = True,
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
