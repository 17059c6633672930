"""The offline Llama-3.2-1B stand-ins: the real tokenizer, template and architecture, through the whole path."""

import dataclasses
import importlib.util
import json
import math
import re
import subprocess
import sys

import pytest
import yaml

from coverletter import app as app_lib
from coverletter import data, export, generate, heldout, letter, standin
from coverletter import train as train_lib
from coverletter.config import DataArguments, ExportArguments, parse_train_args
from coverletter.errors import UserError
from coverletter.model import resolve_model_path

from conftest import free_port, two_written_letters


CONVERSATION = [{"role": "system", "content": "You write cover letters."},
                {"role": "user", "content": "Write one for a baker."},
                {"role": "assistant", "content": "Dear team,\n\nI bake bread.\n\nBest,\nAna"},
                {"role": "user", "content": "Shorter."},
                {"role": "assistant", "content": "I bake. Ana"}]


@pytest.fixture(scope="module")
def tokenizer():
    return standin.llama3_tokenizer()


def test_the_tokenizer_is_metas_with_llama_3s_special_tokens_at_their_real_ids(tokenizer):
    from llama_models.llama3.tokenizer import Tokenizer

    assert len(tokenizer) == 128256
    ids = {"<|begin_of_text|>": 128000, "<|end_of_text|>": 128001, "<|finetune_right_pad_id|>": 128004,
           "<|start_header_id|>": 128006, "<|end_header_id|>": 128007, "<|eom_id|>": 128008, "<|eot_id|>": 128009,
           "<|python_tag|>": 128010, "<|reserved_special_token_3|>": 128011, "<|reserved_special_token_247|>": 128255}
    assert {token: tokenizer.convert_tokens_to_ids(token) for token in ids} == ids
    text = "Dear hiring team,\n\nI'm applying for the Data Analyst role — 12,345 rows/day!\tTabs and  spaces.\n"
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == Tokenizer.get_instance().encode(
        text, bos=False, eos=False)
    assert tokenizer("Hello world")["input_ids"] == [128000, 9906, 1917]  # BOS added, as the Hub's tokenizer does
    assert tokenizer.eos_token == "<|eot_id|>"


def test_the_chat_template_is_llama_3_2s(tokenizer):
    rendered = tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False, add_generation_prompt=True,
                                             date_string="26 Jul 2024")
    assert rendered == ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: "
                        "December 2023\nToday Date: 26 Jul 2024\n\nYou write cover letters.<|eot_id|>"
                        "<|start_header_id|>user<|end_header_id|>\n\nWrite one for a baker.<|eot_id|>"
                        "<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_the_loss_mask_covers_exactly_the_assistant_turns_up_to_and_including_eot(tokenizer):
    markers = data.detect_markers(tokenizer, DataArguments())
    assert markers == data.TurnMarkers("<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>")
    row = data.tokenize_with_mask(tokenizer, CONVERSATION, markers)
    trained = [token for token, on in zip(row["input_ids"], row["assistant_masks"]) if on]
    answers = [tokenizer.encode(m["content"] + "<|eot_id|>", add_special_tokens=False)
               for m in CONVERSATION if m["role"] == "assistant"]
    assert trained == answers[0] + answers[1]
    assert row["input_ids"][0] == 128000 and row["input_ids"].count(128000) == 1  # one BOS, from the template


def test_the_1b_shape_is_llama_3_2_1b_instruct_exactly():
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    settings = {k: v for k, v in standin.SHAPES["llama-3.2-1b-shape"].items() if k != "torch_dtype"}
    config = AutoConfig.for_model(**settings)
    assert config.rope_parameters == {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                                      "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                      "original_max_position_embeddings": 8192}
    assert (config.num_key_value_heads, config.head_dim, config.tie_word_embeddings) == (8, 64, True)
    with torch.device("meta"):  # the shapes without the memory
        model = AutoModelForCausalLM.from_config(config)
    assert sum(p.numel() for p in model.parameters()) == 1_235_814_400  # Llama-3.2-1B's published count


def test_a_missing_package_is_one_line_that_names_it(monkeypatch, tmp_path):
    monkeypatch.setenv("COVERLETTER_CACHE", str(tmp_path))  # not made yet: making it needs the package
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llama_models" else real(name, *a))
    with pytest.raises(UserError, match=r"needs the package llama-models: pip install llama-models$"):
        resolve_model_path("embedded:llama-3-tiny")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "tiny3"
    train_lib.train(*parse_train_args(["--model_name_or_path", "embedded:llama-3-tiny", "--output_dir", str(run),
                                       "--max_steps", "2", "--save_steps", "1", "--max_length", "256",
                                       "--max_samples", "8", "--cover_letter_samples", "16", "--logging_steps", "1"]))
    return run


@pytest.mark.slow
def test_the_tiny_llama_3_trains_and_exports_a_q8_0_that_holds_the_template_and_special_tokens(tiny_run):
    from gguf import GGUFReader

    assert (tiny_run / "checkpoint-2" / "adapter_model.safetensors").is_file()
    result = export.export_gguf(ExportArguments(run=str(tiny_run), quant=["q8_0"]))
    validation = result.report["validation"]
    assert validation["random_weights"] and all(row["passed"] for row in validation["files"].values())
    fields = GGUFReader(result.files["Q8_0"]).fields
    tokens = fields["tokenizer.ggml.tokens"]
    token = lambda i: bytes(tokens.parts[tokens.data[i]]).decode()  # noqa: E731
    assert [token(i) for i in (128000, 128006, 128007, 128009)] == [
        "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    assert fields["tokenizer.ggml.eos_token_id"].contents() == 128009
    assert fields["tokenizer.ggml.pre"].contents() == "llama-bpe"  # llama.cpp recognised Llama 3's pre-tokenizer
    assert fields["tokenizer.chat_template"].contents() == standin.TEMPLATE.read_text()
    assert "rope_freqs.weight" in {t.name for t in GGUFReader(result.files["Q8_0"]).tensors}  # llama3 rope scaling
    assert "random weights" in (result.out_dir / "export_report.md").read_text()


def test_the_cpu_recipe_is_the_reference_lora_on_the_1b_shape():
    _, _, model_args, training_args = parse_train_args(["--recipe", "llama-3.2-1b-shape-cpu"])
    reference = parse_train_args(["--recipe", "llama-3.2-1b-colab"])[2]
    assert model_args.model_name_or_path == "embedded:llama-3.2-1b-shape" and not model_args.load_in_4bit
    assert (model_args.lora_r, model_args.lora_alpha, sorted(model_args.lora_target_modules)) == (
        reference.lora_r, reference.lora_alpha, sorted(reference.lora_target_modules))
    assert training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps == 8


PROFILE = letter.make_profile(name="Viktor Novak", job_title="Logistics Coordinator",
                              company_name="Millbrook Distribution", skills="route planning, demand forecasting",
                              reasons="its electric van fleet", length="short")
# Paragraphs as long as a short letter's, so that the length steering leaves a taught letter as it is
LETTER = """Dear Millbrook Distribution Hiring Team,

I am applying for the Logistics Coordinator position at Millbrook Distribution. I plan routes and forecast demand \
for a regional carrier, and I would like to bring that work to a team that moves goods the way Millbrook does.

My strongest skills are route planning and demand forecasting. I build weekly delivery plans, match them to the \
orders we expect, and adjust them when the numbers change, so that vans leave full and arrive on time.

Millbrook's electric van fleet is the reason I am writing. Planning routes around charging and range is a problem \
I would enjoy solving, and I would be glad to help the fleet grow while keeping every delivery promise to its customers.

Thank you for your time and consideration.

Sincerely,
Viktor Novak"""


@pytest.fixture(scope="module")
def one_letter_gguf(tmp_path_factory):
    """The tiny Llama 3 taught one letter through the real path (template, mask through <|eot_id|>, LoRA, merge,
    llama.cpp's converter): it can only stop where it learned <|eot_id|>."""
    folder = tmp_path_factory.mktemp("one-letter")
    system, user = letter.build_messages(PROFILE)
    row = {"conversations": [{"from": "system", "value": system["content"]},
                             {"from": "human", "value": user["content"]}, {"from": "gpt", "value": LETTER}],
           "source": "test", "score": 5.0}
    (folder / "one.jsonl").write_text(json.dumps(row) + "\n")
    (folder / "recipe.yaml").write_text(yaml.safe_dump({
        "model_name_or_path": "embedded:llama-3-tiny", "dataset_name": str(folder / "one.jsonl"), "max_length": 512,
        "use_peft": True, "lora_r": 16, "lora_alpha": 16, "lora_dropout": 0.0,
        "lora_target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "per_device_train_batch_size": 1, "max_steps": 80, "learning_rate": 1e-2, "lr_scheduler_type": "constant",
        "seed": 3407, "use_cpu": True, "output_dir": str(folder / "run"), "save_steps": 1000, "report_to": "none"}))
    train_lib.train(*parse_train_args(["--recipe", str(folder / "recipe.yaml")]))
    result = export.export_gguf(ExportArguments(run=str(folder / "run"), quant=["q8_0"], validate=False))
    return result.files["Q8_0"]


@pytest.mark.slow
def test_the_app_serves_the_llama_3_gguf_and_the_letter_stops_at_eot(one_letter_gguf):
    from gradio_client import Client

    profile = PROFILE
    low, high = letter.LENGTHS["short"]
    assert low <= letter.word_count(LETTER) <= high
    with generate.LetterWriter.for_gguf(one_letter_gguf) as writer:
        reply = writer.model.llm.create_chat_completion(letter.build_messages(profile), temperature=0, max_tokens=400)
        assert reply["choices"][0]["finish_reason"] == "stop"  # it emitted <|eot_id|>, well before the budget
        ui = app_lib.build_app(writer)
        port = free_port()
        ui.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        try:
            text = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
                **dataclasses.asdict(profile), temperature=0.0, api_name="/generate")
        finally:
            ui.close()
    assert text.startswith(f"Dear {profile.company_name}") and text.endswith(f"Sincerely,\n{profile.name}")
    assert not re.search(r"<\|[a-z_]+\|>|^assistant\b", text, re.MULTILINE)  # no template text reaches the page


@pytest.mark.slow
def test_a_llama_gguf_without_a_template_serves_in_llama_3s_format_with_finite_losses(one_letter_gguf, tmp_path):
    """A Llama GGUF whose converter kept no chat template: the writer prompts it in Llama 3's format, and the held-out
    losses render the same prompts (before, `evaluate` reported NaN for a model that the page still served)."""
    bare = tmp_path / "no-template.Q8_0.gguf"
    subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", "--remove-metadata",
                    "tokenizer.chat_template", "--force", str(one_letter_gguf), str(bare)], check=True,
                   capture_output=True)
    with generate.LetterWriter.for_gguf(bare) as writer:
        llm = writer.model.llm
        assert "tokenizer.chat_template" not in llm.metadata and llm.chat_format == "llama-3"
        # Llama 3's generic format, not the 3.2 template it learned under: the letter starts as it learned it
        assert writer.write(PROFILE).startswith(f"Dear {PROFILE.company_name} Hiring Team,\n\nI am applying")
        assert math.isfinite(heldout.gguf_heldout_loss(llm, bare))
        assert math.isfinite(heldout.gguf_written_loss(llm, bare, two_written_letters(tmp_path)))
