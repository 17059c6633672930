"""The cover-letter Space's page: a Gradio form whose letter streams from `generate.LetterWriter`.

    coverletter serve            # or: python huggingface/app.py
    MODEL_PATH=runs/demo/gguf/x.Q8_0.gguf coverletter serve

Widgets and events only: which model, and how a letter is written, live in `coverletter.generate`.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from pathlib import Path

from . import letter
from .generate import InputTooLong, LetterWriter, ModelNotFound, load_model
from .resume import KINDS, MAX_BYTES, ResumeError, resume_text

logger = logging.getLogger(__name__)

QUEUE_MAX_SIZE = 24  # waiting requests; past it the browser shows "This application is currently busy"
AUTO_TOKENS = 0  # the "Max new tokens" slider's "auto": the budget of the chosen length (letter.MAX_NEW_TOKENS)
# Gradio's queue looks for work every 1 ms on Linux (every 50 ms on Windows): a thousand wake-ups a second on a
# 2-core Space whose cores llama.cpp keeps busy. 50 ms more before a queued letter starts is nothing next to it.
QUEUE_POLL_SECONDS = 0.05
HOST, PORT = "127.0.0.1", 7860  # Gradio's own defaults, which GRADIO_SERVER_NAME and GRADIO_SERVER_PORT override
PROFILE_FIELDS = ("name", "job_title", "company_name", "skills", "reasons", "job_description", "tone", "length",
                  "resume")
# /generate's inputs, in order: the résumé came last, so that callers of the API from before it keep working
GENERATE_INPUTS = (*PROFILE_FIELDS[:-1], "system_message", "temperature", "max_new_tokens", "resume")
TEMPERATURE_INPUT = GENERATE_INPUTS.index("temperature")
EXAMPLES = [
    ["Maria Lopez", "Data Analyst", "Northwind Logistics",
     "SQL, Python (pandas), Tableau dashboards, A/B test analysis, explaining numbers to non-technical teams",
     "Northwind's route-optimisation work is the kind of applied analytics I want to grow in, and I admire its "
     "open data blog.", "", letter.DEFAULT_TONE, letter.DEFAULT_LENGTH],
    ["Kwame Mensah", "Junior Frontend Developer", "Brightleaf Studio",
     "React, TypeScript, accessible HTML/CSS, Figma hand-off, two shipped freelance sites",
     "I love Brightleaf's playful design for children's education apps and want to learn from its team.",
     "We are hiring a junior frontend developer to build accessible, delightful interfaces in React.",
     "enthusiastic", "short"],
    ["Ingrid Svensson", "Registered Nurse (ICU)", "St. Anne's Hospital",
     "8 years of ICU nursing, ventilator management, mentoring new graduates, calm under pressure",
     "St. Anne's reputation for patient-centred care and its nurse mentorship programme.", "", "warm", "long"],
]


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


def add_draft(drafts: list[dict], text: str, profile: letter.Profile) -> list[dict]:
    """The session's drafts with this letter last, its word count (and why it is short) and its downloads; the same
    letter twice is one draft (temperature 0, or an error before the first word left the page as it was)."""
    if not text.strip() or any(draft["text"] == text for draft in drafts):
        return drafts
    note = letter.length_note(text, profile)
    words = f"{letter.word_count(text)} words" + (f". {note}" if note else "")
    return [*drafts, {"text": text, "words": words, "files": write_downloads(text, profile.company_name)}]


def draft_choices(drafts: list[dict]) -> list[tuple[str, int]]:
    """The drafts dropdown's entries, 'Draft 1 — 187 words', each standing for its number (from 1, as the API's)."""
    return [(f"Draft {number} — {letter.word_count(draft['text'])} words", number)
            for number, draft in enumerate(drafts, 1)]


def draft_number(value, drafts: list[dict]) -> int:
    """A draft's number as the page or an API caller gives it (1 is the first); a ValueError that says what exists."""
    try:
        number = float(str(value).strip())  # 2, "2" and 2.0 alike
    except ValueError:
        number = math.nan
    if not number.is_integer() or not 1 <= number <= len(drafts):
        have = f"drafts 1 to {len(drafts)}" if drafts else "no drafts yet"
        raise ValueError(f"There is no draft {value}: this session has {have}.")
    return int(number)


def server_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Where the page listens: the arguments, else GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else HOST:PORT."""
    return (host or os.environ.get("GRADIO_SERVER_NAME", HOST),
            port or int(os.environ.get("GRADIO_SERVER_PORT", PORT)))


# --------------------------------------------------------------------------- the UI


def build_app(writer: LetterWriter, queue_max_size: int = QUEUE_MAX_SIZE):
    import gradio as gr

    def generate(name, job_title, company_name, skills, reasons, job_description="", tone=letter.DEFAULT_TONE,
                 length=letter.DEFAULT_LENGTH, system_message=letter.DEFAULT_SYSTEM_MESSAGE,
                 temperature=letter.DEFAULT_TEMPERATURE, max_new_tokens=AUTO_TOKENS, resume="", drafts=()):
        """Streams the letter; the whole letter is also a draft of the session (for API callers too)."""
        try:
            profile = letter.make_profile(name=name, job_title=job_title, company_name=company_name, skills=skills,
                                          reasons=reasons, job_description=job_description, tone=tone, length=length,
                                          resume=resume)
        except letter.InvalidProfile as problems:
            raise gr.Error(str(problems), title="Please check the form", print_exception=False) from None
        try:
            text = ""
            for text in writer.stream(profile, system_message, temperature, max_new_tokens):
                yield text, drafts
            yield text, add_draft(drafts, text, profile)
        except InputTooLong as err:
            raise gr.Error(str(err), title="Please shorten the form", print_exception=False) from None
        except Exception:  # one bad request must not take the app down, nor show a traceback
            logger.exception("generation failed")
            raise gr.Error("The model failed to write this letter. Please try again.") from None

    def regenerate(*values):
        """Another draft of the same form: sampled when the temperature is 0, which would write the same letter."""
        values = list(values)
        values[TEMPERATURE_INPUT] = values[TEMPERATURE_INPUT] or letter.RESAMPLE_TEMPERATURE
        yield from generate(*values)

    def finish(text, drafts, *fields):
        """Shows the letter's words, downloads and place among the drafts; a stopped letter becomes a draft here."""
        if not text.strip():
            return "", None, drafts, gr.skip()
        drafts = add_draft(drafts, text, letter.make_profile(**dict(zip(PROFILE_FIELDS, fields))))
        number = next(number for number, draft in enumerate(drafts, 1) if draft["text"] == text)
        draft = drafts[number - 1]
        return draft["words"], draft["files"], drafts, gr.Dropdown(choices=draft_choices(drafts), value=number)

    def show_draft(value, drafts):
        try:
            draft = drafts[draft_number(value, drafts) - 1]
        except ValueError as err:
            raise gr.Error(str(err), title="No such draft", print_exception=False) from None
        return draft["text"], draft["words"], draft["files"]

    def read_resume(path):
        """The uploaded résumé's text into its field. A file that cannot be read leaves every field as it was and
        is taken off the upload box, ready for another."""
        try:
            text = resume_text(path)
        except ResumeError as err:
            return gr.skip(), str(err), None
        limit = letter.FIELD_LIMITS["resume"]
        cut = (f"Your résumé has {len(text):,} characters; only its first {limit:,} are kept: edit them to keep "
               "what matters most." if len(text) > limit else "")
        return text[:limit], cut, gr.skip()

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
                resume_file = gr.File(label=f"Résumé (PDF, DOCX or TXT, at most {MAX_BYTES // 2**20} MB)",
                                      file_types=list(KINDS), elem_id="resume-file")
                resume_message = gr.Markdown(elem_id="resume-message")
                resume = gr.Textbox("", label="Résumé text", lines=6, max_length=letter.FIELD_LIMITS["resume"],
                                    elem_id="resume")
                with gr.Row():
                    tone = gr.Dropdown(list(letter.TONES), value=letter.DEFAULT_TONE, label="Tone")
                    length = gr.Radio(list(letter.LENGTHS), value=letter.DEFAULT_LENGTH, label="Length")
                with gr.Accordion("Advanced", open=False):
                    system_message = gr.Textbox(letter.DEFAULT_SYSTEM_MESSAGE, label="System message", lines=4)
                    temperature = gr.Slider(0.0, 1.5, value=letter.DEFAULT_TEMPERATURE, step=0.05,
                                            label=f"Temperature (0: the likeliest letter; Regenerate samples at "
                                                  f"{letter.RESAMPLE_TEMPERATURE} then)")
                    max_new_tokens = gr.Slider(AUTO_TOKENS, 1024, value=AUTO_TOKENS, step=16,
                                               label="Max new tokens (0 = auto: as the length needs)")
                with gr.Row():
                    generate_button = gr.Button("Generate", variant="primary")
                    stop_button = gr.Button("Stop")
                    regenerate_button = gr.Button("Regenerate")
            with gr.Column():
                output = gr.Textbox(label="Your cover letter", lines=22, buttons=["copy"], elem_id="letter")
                words = gr.Markdown(elem_id="word-count")
                draft_list = gr.Dropdown(label="Drafts", choices=[], elem_id="drafts",
                                         info="Every letter of this session: pick one to see it again")
                downloads = gr.File(label="Download (.txt, .docx)", file_count="multiple", elem_id="downloads")
        drafts = gr.State([])
        # in PROFILE_FIELDS' order: finish makes the letter's profile from them
        profile_form = [name, job_title, company_name, skills, reasons, job_description, tone, length, resume]
        form = [*profile_form[:-1], system_message, temperature, max_new_tokens, resume]  # GENERATE_INPUTS' order
        draft_asked = gr.Textbox(visible=False)  # the /draft endpoint's input (a number; text, to answer "x" clearly)
        gr.Examples(EXAMPLES, inputs=form[:8])
        resume_file.upload(read_resume, resume_file, [resume, resume_message, resume_file], api_visibility="private")
        runs = []
        for button, write, api_name in ((generate_button, generate, "generate"),
                                        (regenerate_button, regenerate, "regenerate")):
            event = button.click(write, [*form, drafts], [output, drafts], api_name=api_name,
                                 api_visibility="public" if api_name == "generate" else "private")
            event.then(finish, [output, drafts, *profile_form], [words, downloads, drafts, draft_list],
                       api_visibility="private")
            runs.append(event)
        draft_list.input(show_draft, [draft_list, drafts], [output, words, downloads], api_visibility="private")
        draft_asked.change(show_draft, [draft_asked, drafts], [output, words, downloads], api_name="draft")
        stop_button.click(None, None, None, cancels=runs, api_visibility="private")
    app.queue(default_concurrency_limit=1, max_size=queue_max_size)
    poll_queue_less_often(app)
    return app


def poll_queue_less_often(app) -> None:
    """Gradio keeps these intervals on its private queue object; a Gradio without them is left as it is."""
    queue = getattr(app, "_queue", None)
    for name in ("sleep_when_free", "progress_update_sleep_when_free"):
        if hasattr(queue, name):
            setattr(queue, name, max(getattr(queue, name), QUEUE_POLL_SECONDS))


def register_zero_gpu_check() -> None:
    """ZeroGPU hardware refuses to start a Space that has no `@spaces.GPU` function: register one that is never
    called (llama.cpp writes the letters on the host's CPU, which a ZeroGPU Space has too). Without the `spaces`
    package (the free CPU Space, local runs) there is nothing to register."""
    try:
        import spaces  # before gradio, which it patches when imported
    except ImportError:
        return

    @spaces.GPU(duration=1)
    def zero_gpu_start_up_check() -> None:
        """Never called."""


def serve(host: str | None = None, port: int | None = None) -> None:
    """Load the model once, build the UI, serve it (at `server_address`). A failure to start ends with one line and
    exit code 1."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    register_zero_gpu_check()
    try:
        model = load_model()
    except ModelNotFound as err:
        raise SystemExit(f"coverletter serve: {err}") from None
    logger.info("serving %s", model.description)
    app = build_app(LetterWriter(model))
    try:
        host, port = server_address(host, port)
        app.launch(server_name=host, server_port=port, share=False)
    except OSError as err:  # the port is taken, or the address cannot be bound
        raise SystemExit(f"coverletter serve: cannot start the server ({err}); pick another --port") from None
