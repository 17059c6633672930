"""The writer: finding and loading the model, the shared start of every prompt, and decoding on one llama.cpp
thread (`LetterWriter`), with llama stand-ins where no real model is needed."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from coverletter import generate, letter
from coverletter.embedded import embedded_gguf

from conftest import ROOT, TickingModel, writer_on

FORM = dict(name="Maria Lopez", job_title="Data Analyst", company_name="Northwind Logistics",
            skills="SQL, Python, Tableau dashboards", reasons="I admire Northwind's route-optimisation work.")


def test_missing_or_corrupt_gguf_is_a_clear_startup_error(tmp_path):
    with pytest.raises(generate.ModelNotFound, match="does not exist"):
        generate.load_model({"MODEL_PATH": str(tmp_path / "none.gguf")})
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(generate.ModelNotFound, match="could not be loaded as a GGUF model"):
        generate.load_model({"MODEL_PATH": str(corrupt)})
    result = subprocess.run([sys.executable, "-m", "coverletter", "serve"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "MODEL_PATH": str(corrupt)}, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert str(corrupt) in result.stderr


def test_unreachable_hub_repo_falls_back_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # no local exports here: the embedded model is the fallback
    model = generate.load_model({"MODEL_REPO": "someone/not-reachable", "MODEL_FILE": "*Q8_0.gguf"})
    assert "fallback: someone/not-reachable could not be reached" in model.description
    assert "embedded" in model.description
    model.llm.close()


class ThreadRecordingModel(TickingModel):
    """Notes which threads call into the model: the cache reset before a letter, and the generation."""

    def __init__(self):
        super().__init__(words=3, seconds=0)
        self.threads = set()

    def reset(self):
        self.threads.add(threading.get_ident())

    def create_chat_completion(self, messages, **settings):
        self.threads.add(threading.get_ident())
        yield from super().create_chat_completion(messages, **settings)


def test_every_letter_is_written_on_the_writers_one_llama_thread():
    """llama.cpp's OpenMP barriers spin only while the process has no more OpenMP threads than cores, and every
    thread that calls llama.cpp keeps a team: one calling thread per model, never one per letter."""
    model = ThreadRecordingModel()
    writer = writer_on(model)
    for _ in range(3):
        model.made = 0
        assert writer.write(letter.make_profile(**FORM))
    assert len(model.threads) == 1 and threading.get_ident() not in model.threads


def test_decoding_goes_on_while_the_page_is_busy_and_updates_are_throttled():
    writer = writer_on(TickingModel(words=100, seconds=0.002))
    profile = letter.make_profile(**FORM)
    updates = []
    for text in writer.stream(profile, None, 0.0, 512):
        updates.append(text)
        time.sleep(0.5)  # a slow page: the whole letter (0.2 s of decoding) is written meanwhile
    assert "word100." in updates[-1]
    assert len(updates) <= 3  # first token, at most one catch-up, the final text: not one update per token


def test_stopping_the_stream_stops_decoding_and_frees_the_model():
    model = TickingModel()  # never ends by itself
    writer = writer_on(model)
    stream = writer.stream(letter.make_profile(**FORM), None, 0.0, 512)
    assert next(stream).startswith("word1")
    stream.close()  # what Gradio does on Stop or a closed tab
    assert model.closed.wait(5)
    assert writer.lock.acquire(timeout=1)


def test_a_model_failure_mid_letter_reaches_the_caller():
    writer = writer_on(TickingModel(fail_after=30))
    with pytest.raises(RuntimeError, match="the model broke"):
        list(writer.stream(letter.make_profile(**FORM), None, 0.0, 512))
    assert writer.lock.acquire(timeout=1)


@pytest.mark.slow
def test_temperature_0_gives_the_same_letter_whatever_came_before():
    # profiles whose letters changed with the letter before them while llama.cpp reused the last prompt's cache
    rows = [json.loads(line) for line in (ROOT / "data" / "eval-profiles.jsonl").read_text().splitlines()]
    first, second, third = (letter.make_profile(**{**rows[i], "length": "short"}) for i in (0, 1, 5))
    with generate.LetterWriter.for_gguf(embedded_gguf("smollm2-135m-instruct")) as writer:
        letters = [writer.write(first), writer.write(third)]
        again_third = writer.write(third)  # the whole prompt is still cached
        writer.write(second)  # shares the system message and the start of the prompt
        again_first = writer.write(first)
    assert again_first == letters[0] and again_third == letters[1]


@pytest.mark.parametrize("chat_format", ["chat_template.default", "llama-3"])
def test_the_shared_start_is_evaluated_once_and_the_prompt_is_what_llama_cpp_evaluates(chat_format):
    profile = letter.make_profile(**FORM, length="short")
    with generate.LetterWriter.for_gguf(embedded_gguf("smollm2-135m-instruct")) as writer:
        llm = writer.model.llm
        llm.chat_format = chat_format  # the GGUF's own template, and Llama 3's for a Llama GGUF without one
        writer.prefix = generate.SharedPrefix(llm)
        resets = []
        llm.reset = lambda reset=llm.reset: (resets.append(1), reset())[1]
        messages = letter.build_messages(profile)
        tokens = writer.prefix.tokens(messages)
        writer.write(profile, max_new_tokens=8)
        assert list(llm.input_ids[:len(tokens)]) == tokens  # rendered exactly as the chat completion did
        shared = writer.prefix.shared_start(messages)
        assert 20 < len(shared) < len(tokens) and writer.prefix.evaluated == shared
        writer.write(letter.make_profile(**{**FORM, "name": "Kwame Mensah"}), max_new_tokens=8)
        assert len(resets) == 1  # the second letter starts from the cached system turn
        writer.write(profile, system_message="Write tersely.", max_new_tokens=8)
        assert len(resets) == 2 and writer.prefix.evaluated != shared  # another system turn: evaluated anew


def test_a_gguf_without_a_chat_template_is_loaded_once_with_llama_3s(monkeypatch):
    import llama_cpp

    loads = []

    class WithoutTemplate(llama_cpp.Llama):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            loads.append(kwargs)
            self.metadata = {k: v for k, v in self.metadata.items() if k != "tokenizer.chat_template"}

    monkeypatch.setattr(llama_cpp, "Llama", WithoutTemplate)
    model = generate.open_gguf(embedded_gguf("smollm2-135m-instruct"))
    try:
        assert len(loads) == 1 and model.llm.chat_format == "llama-3"
        reply = model.llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=2)
        assert reply["choices"][0]["message"]["content"] is not None  # formatted with llama-3, and answered
    finally:
        model.llm.close()
