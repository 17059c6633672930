"""The cover-letter Space: a Gradio form that streams a letter from a GGUF model through llama-cpp-python.

    coverletter serve            # or: python huggingface/app.py
    MODEL_PATH=runs/demo/gguf/x.Q8_0.gguf coverletter serve

Model, in order: MODEL_PATH (a local GGUF) -> MODEL_REPO + MODEL_FILE (default *Q8_0.gguf) from the Hub ->
the newest local export (runs/*/gguf/*.Q8_0.gguf) -> the embedded SmolLM2 GGUF. Loaded once at start.
Imports neither torch nor transformers: the Space runs on a free CPU with llama-cpp-python alone.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from . import letter

logger = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = "*Q8_0.gguf"
CONTEXT_TOKENS = 2048  # the prompt (<= ~2,000 tokens with a full job ad) plus the longest letter fit
# Flash attention and 256-token batches: faster than llama.cpp's defaults on a CPU, with 30 MB smaller compute
# buffers, which keeps the Space within its memory goal (docs/benchmarks.md).
LLAMA_SETTINGS = {"n_ctx": CONTEXT_TOKENS, "n_batch": 256, "n_ubatch": 256, "flash_attn": True, "verbose": False}
QUEUE_MAX_SIZE = 24  # waiting requests; past it the browser shows "This application is currently busy"
UPDATE_SECONDS = 0.05  # at most 20 streamed updates a second: each costs a clean-up and a message to the browser
REPEAT_PENALTY = 1.1  # llama.cpp's penalty on tokens of the last 64
LINE_BREAK_PENALTY = 4.0  # logit off line breaks while a paragraph should go on, onto them when it should end
TOKENS_PER_WORD = 1.4  # room to keep free in the context for a letter of the requested length
EXAMPLES = [
    ["Maria Lopez", "Data Analyst", "Northwind Logistics",
     "SQL, Python (pandas), Tableau dashboards, A/B test analysis, explaining numbers to non-technical teams",
     "Northwind's route-optimisation work is the kind of applied analytics I want to grow in, and I admire its "
     "open data blog.", "", "formal", "standard"],
    ["Kwame Mensah", "Junior Frontend Developer", "Brightleaf Studio",
     "React, TypeScript, accessible HTML/CSS, Figma hand-off, two shipped freelance sites",
     "I love Brightleaf's playful design for children's education apps and want to learn from its team.",
     "We are hiring a junior frontend developer to build accessible, delightful interfaces in React.",
     "enthusiastic", "short"],
    ["Ingrid Svensson", "Registered Nurse (ICU)", "St. Anne's Hospital",
     "8 years of ICU nursing, ventilator management, mentoring new graduates, calm under pressure",
     "St. Anne's reputation for patient-centred care and its nurse mentorship programme.", "", "warm", "long"],
]


@dataclass
class LoadedModel:
    llm: object  # llama_cpp.Llama
    description: str  # what the UI says is serving


class ModelNotFound(RuntimeError):
    """No usable GGUF: the message names the path and how to fix it."""


class InputTooLong(ValueError):
    """The prompt leaves no room in the model's context for the letter; the message says what to shorten."""


# --------------------------------------------------------------------------- model


def local_exports(root: Path = Path("runs")) -> list[Path]:
    """Q8_0 files of local exports, newest first."""
    return sorted(root.glob("*/gguf/*.Q8_0.gguf"), key=lambda p: p.stat().st_mtime, reverse=True)


def open_gguf(path: Path, **kwargs):
    from llama_cpp import Llama

    if not path.is_file():
        raise ModelNotFound(f"MODEL_PATH {path} does not exist: point it at a .gguf file (coverletter export makes one)")
    try:
        return Llama(str(path), **kwargs)
    except (ValueError, RuntimeError) as err:
        raise ModelNotFound(f"{path} could not be loaded as a GGUF model ({err}); re-export it or pick another "
                            "file with MODEL_PATH") from None


def chat_format_for(llm) -> str | None:
    """The GGUF's own template if it has one; Llama models without one get llama-3."""
    if llm.metadata.get("tokenizer.chat_template"):
        return None
    return "llama-3" if llm.metadata.get("general.architecture") == "llama" else None


def llama_settings() -> dict:
    return {**LLAMA_SETTINGS, "n_threads": os.cpu_count() or 1}


def load_model(env: dict | None = None) -> LoadedModel:
    env = os.environ if env is None else env
    kwargs = llama_settings()
    if env.get("MODEL_PATH"):
        path = Path(env["MODEL_PATH"])
        return with_chat_format(open_gguf(path, **kwargs), path, f"{path.name} (MODEL_PATH)", kwargs)
    if env.get("MODEL_REPO"):
        repo, pattern = env["MODEL_REPO"], env.get("MODEL_FILE", DEFAULT_MODEL_FILE)
        try:
            from llama_cpp import Llama

            llm = Llama.from_pretrained(repo_id=repo, filename=pattern, **kwargs)
            return with_chat_format(llm, Path(llm.model_path), f"{repo} / {pattern} (Hub)", kwargs)
        except Exception as err:  # offline, no such repo, no matching file
            logger.warning("could not fetch %s %s from the Hub (%s); falling back to a local model",
                           repo, pattern, str(err).splitlines()[0][:200])
            fallback = load_local(kwargs)
            fallback.description += f" — fallback: {repo} could not be reached"
            return fallback
    return load_local(kwargs)


def load_local(kwargs: dict) -> LoadedModel:
    exports = local_exports()
    if exports:
        return with_chat_format(open_gguf(exports[0], **kwargs), exports[0], f"{exports[0].name} (latest export)", kwargs)
    from .model import embedded_gguf

    path = embedded_gguf("smollm2-135m-instruct")
    return with_chat_format(open_gguf(path, **kwargs), path, f"{path.name} (embedded base model, not fine-tuned)",
                            kwargs)


def with_chat_format(llm, path: Path, description: str, kwargs: dict) -> LoadedModel:
    chat_format = chat_format_for(llm)
    if chat_format:
        llm.close()
        llm = open_gguf(path, chat_format=chat_format, **kwargs)
    return LoadedModel(llm, description)


# --------------------------------------------------------------------------- generation


class LengthSteering:
    """A llama.cpp logits processor that holds a letter to its requested length, the way the synthetic letters vary
    theirs, by the sentences in each paragraph: while a paragraph should go on (`letter.needs_more_words`), line
    breaks cost LINE_BREAK_PENALTY, so it gets one more sentence; when only a closing still fits, or a sign-off
    line is whole (`letter.needs_line_end`), they gain as much; once one more paragraph would pass the range
    (`letter.sign_off_due`), the next line can only start a sign-off ("Sincerely", "Best", ...) or the thanks that
    close a letter ("Thank")."""

    def __init__(self, llm, length: str):
        self.llm, self.length = llm, length
        self.sign_off_tokens = sorted({llm.tokenize(word.encode(), add_bos=False, special=False)[0]
                                       for word in letter.SIGN_OFF_STARTS})
        self.line_break_tokens = line_break_tokens(llm)
        self.read, self.answer = None, b""  # tokens read so far (the prompt on the first call); the letter's bytes

    def __call__(self, input_ids, scores):
        if self.read is not None:
            self.answer += self.llm.detokenize(list(input_ids[self.read:]))
        self.read = len(input_ids)
        raw = self.answer.decode("utf-8", errors="ignore")
        text = letter.clean_letter(raw, finished=False) + raw[len(raw.rstrip()):]  # as shown: repeats do not count
        if letter.needs_more_words(text, self.length):
            scores[self.line_break_tokens] -= LINE_BREAK_PENALTY
        elif letter.needs_line_end(text, self.length):
            scores[self.line_break_tokens] += LINE_BREAK_PENALTY
        elif text.endswith("\n") and letter.sign_off_due(text, self.length):
            allowed = scores[self.sign_off_tokens].copy()
            scores[:] = -math.inf
            scores[self.sign_off_tokens] = allowed
        return scores


@functools.cache
def line_break_tokens(llm) -> list[int]:
    """The vocabulary's tokens that hold a line break (0.2 s for SmolLM2's 49,152: once per model)."""
    return [token for token in range(llm.n_vocab()) if b"\n" in llm.detokenize([token])]


class Decoding:
    """One streamed chat completion, decoded in a background thread into `text`.

    Gradio pulls a generator's items one call at a time from its worker threads; decoding inside the generator
    would pause llama.cpp for every hand-off. Here the page reads `text` when it likes and decoding goes on."""

    def __init__(self, llm, messages: list[dict], temperature: float, max_new_tokens: int,
                 steering: LengthSteering | None):
        self.text, self.error = "", None
        self.started, self.finished, self.stopping = threading.Event(), threading.Event(), threading.Event()
        chunks = llm.create_chat_completion(messages, stream=True, temperature=temperature,
                                            max_tokens=max_new_tokens, repeat_penalty=REPEAT_PENALTY,
                                            logits_processor=[steering] if steering else None)
        self.thread = threading.Thread(target=self.run, args=(chunks,), daemon=True)
        self.thread.start()

    def run(self, chunks) -> None:
        try:
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
            chunks.close()
            self.started.set()
            self.finished.set()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


class LetterWriter:
    """One model instance, one generation at a time (the lock also guards direct Python callers)."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self.lock = threading.Lock()

    @classmethod
    def for_gguf(cls, path: Path) -> LetterWriter:
        """A writer on one GGUF file with the app's llama.cpp settings (the evaluation, the notebook)."""
        return cls(LoadedModel(open_gguf(path, **llama_settings()), path.name))

    def close(self) -> None:
        self.model.llm.close()

    def stream(self, profile: letter.Profile, system_message: str | None, temperature: float, max_new_tokens: int,
               steer_length: bool = True):
        """Yield the cleaned letter so far as it grows: at the first token, then every UPDATE_SECONDS, then once at
        the end. llama.cpp decodes in its own thread meanwhile, so it never waits for an update to reach the page.
        steer_length=False lets the model alone decide how long the letter is (the evaluation's comparison)."""
        messages = letter.build_messages(profile, system_message)
        with self.lock:
            self.check_room(messages, profile)
            steering = LengthSteering(self.model.llm, profile.length) if steer_length else None
            decoding = Decoding(self.model.llm, messages, float(temperature), int(max_new_tokens), steering)
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

    def write(self, profile: letter.Profile, temperature: float = 0.0, steer_length: bool = True) -> str:
        """The whole letter at once (the evaluation and the notebook), through the same path as the form."""
        text = ""
        for text in self.stream(profile, None, temperature, letter.MAX_NEW_TOKENS[profile.length], steer_length):
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
                "job description, the skills or the reasons, or choose a shorter length.")


def write_downloads(text: str, company_name: str) -> list[str]:
    """The letter as .txt and .docx, named after the company."""
    from docx import Document

    folder = Path(tempfile.mkdtemp(prefix="coverletter-"))
    stem = letter.file_stem(company_name)
    txt = folder / f"{stem}.txt"
    txt.write_text(text + "\n", encoding="utf-8")
    document = Document()
    for paragraph in text.split("\n\n"):
        document.add_paragraph(paragraph)
    docx = folder / f"{stem}.docx"
    document.save(docx)
    return [str(txt), str(docx)]


# --------------------------------------------------------------------------- the UI


def build_app(writer: LetterWriter, queue_max_size: int = QUEUE_MAX_SIZE):
    import gradio as gr

    def generate(name, job_title, company_name, skills, reasons, job_description="", tone="formal",
                 length="standard", system_message=letter.DEFAULT_SYSTEM_MESSAGE, temperature=0.7,
                 max_new_tokens=None):
        try:
            profile = letter.make_profile(name=name, job_title=job_title, company_name=company_name, skills=skills,
                                          reasons=reasons, job_description=job_description, tone=tone, length=length)
        except letter.InvalidProfile as problems:
            raise gr.Error(str(problems), title="Please check the form", print_exception=False) from None
        tokens = int(max_new_tokens or letter.MAX_NEW_TOKENS[profile.length])
        try:
            yield from writer.stream(profile, system_message, temperature, tokens)
        except InputTooLong as err:
            raise gr.Error(str(err), title="Please shorten the form", print_exception=False) from None
        except Exception:  # one bad request must not take the app down, nor show a traceback
            logger.exception("generation failed")
            raise gr.Error("The model failed to write this letter. Please try again.") from None

    def finish(text, company_name):
        if not text.strip():
            return "", None
        return f"{letter.word_count(text)} words", write_downloads(text, letter.clean_field(company_name))

    with gr.Blocks(title="Cover letter writer") as app:
        gr.Markdown(f"# Cover letter writer\nServing **{writer.model.description}** on a CPU with llama.cpp. "
                    "Your text is used only to write the letter.")
        with gr.Row():
            with gr.Column():
                name = gr.Textbox(label="Your name", max_length=letter.FIELD_LIMITS["name"])
                job_title = gr.Textbox(label="Job title", max_length=letter.FIELD_LIMITS["job_title"])
                company_name = gr.Textbox(label="Company name", max_length=letter.FIELD_LIMITS["company_name"])
                skills = gr.Textbox(label="Skills and experience", lines=3, max_length=letter.FIELD_LIMITS["skills"])
                reasons = gr.Textbox(label="Why this job", lines=3, max_length=letter.FIELD_LIMITS["reasons"])
                job_description = gr.Textbox("", label="Job description (optional: paste the ad)", lines=4,
                                             max_length=letter.FIELD_LIMITS["job_description"])
                with gr.Row():
                    tone = gr.Dropdown(list(letter.TONES), value="formal", label="Tone")
                    length = gr.Radio(list(letter.LENGTHS), value="standard", label="Length")
                with gr.Accordion("Advanced", open=False):
                    system_message = gr.Textbox(letter.DEFAULT_SYSTEM_MESSAGE, label="System message", lines=4)
                    temperature = gr.Slider(0.0, 1.5, value=0.7, step=0.05, label="Temperature")
                    max_new_tokens = gr.Slider(64, 1024, value=512, step=16, label="Max new tokens")
                with gr.Row():
                    generate_button = gr.Button("Generate", variant="primary")
                    stop_button = gr.Button("Stop")
                    regenerate_button = gr.Button("Regenerate")
            with gr.Column():
                output = gr.Textbox(label="Your cover letter", lines=22, buttons=["copy"], elem_id="letter")
                words = gr.Markdown(elem_id="word-count")
                downloads = gr.File(label="Download (.txt, .docx)", file_count="multiple", elem_id="downloads")
        form = [name, job_title, company_name, skills, reasons, job_description, tone, length,
                system_message, temperature, max_new_tokens]
        gr.Examples(EXAMPLES, inputs=form[:8])
        runs = []
        for button, api_name in ((generate_button, "generate"), (regenerate_button, "regenerate")):
            event = button.click(generate, form, output, api_name=api_name,
                                 api_visibility="public" if api_name == "generate" else "private")
            event.then(finish, [output, company_name], [words, downloads], api_visibility="private")
            runs.append(event)
        stop_button.click(None, None, None, cancels=runs, api_visibility="private")
    app.queue(default_concurrency_limit=1, max_size=queue_max_size)
    return app


def serve(host: str | None = None, port: int | None = None) -> None:
    """Load the model once, build the UI, serve it (port from GRADIO_SERVER_PORT, default 7860)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        model = load_model()
    except ModelNotFound as err:
        raise SystemExit(f"coverletter serve: {err}") from None
    logger.info("serving %s", model.description)
    app = build_app(LetterWriter(model))
    app.launch(server_name=host or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
               server_port=port or int(os.environ.get("GRADIO_SERVER_PORT", "7860")), share=False)
