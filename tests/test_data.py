import json
from pathlib import Path

import pytest

from coverletter import data
from coverletter.config import DataArguments, UserError

from conftest import SAMPLE

H = {"from": "human", "value": "What is 2 + 2?"}
G = {"from": "gpt", "value": "2 + 2 = 4."}
S = {"from": "system", "value": "You are concise."}


def row(*turns, **extra):
    return {"conversations": list(turns), "source": "flan", "score": 4.5, **extra}


# --------------------------------------------------------------------------- standardization


def test_standardize_maps_sharegpt_roles_to_chat_roles():
    out = data.standardize(row(S, H, G, {"from": "human", "value": "And 3 + 3?"}, {"from": "gpt", "value": "6."}))
    assert [m["role"] for m in out["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert out["messages"][1] == {"role": "user", "content": "What is 2 + 2?"}
    assert out["source"] == "flan" and out["score"] == 4.5


def test_standardize_accepts_role_content_turns_and_missing_metadata():
    out = data.standardize({"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    assert out == {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
                   "source": None, "score": None}


MALFORMED = {
    "not an object (list)": ([H, G], "row is not an object"),
    "not an object (string)": ("hello", "row is not an object"),
    "not an object (number)": (42, "row is not an object"),
    "null row": (None, "row is not an object"),
    "missing conversations": ({"source": "x", "score": 4.0}, "missing 'conversations'"),
    "misspelled conversations": ({"conversation": [H, G]}, "missing 'conversations'"),
    "conversations string": ({"conversations": "human: hi"}, "'conversations' is not a list"),
    "conversations dict": ({"conversations": {"from": "human"}}, "'conversations' is not a list"),
    "conversations null": ({"conversations": None}, "'conversations' is not a list"),
    "empty conversations": (row(), "empty conversation"),
    "turn is a string": (row("hi", G), "turn is not an object"),
    "turn is a list": (row(["human", "hi"], G), "turn is not an object"),
    "turn is null": (row(None, G), "turn is not an object"),
    "turn without from": (row({"value": "hi"}, G), "turn without 'from'"),
    "from is a number": (row({"from": 1, "value": "hi"}, G), "'from' is not a string"),
    "from is null": (row({"from": None, "value": "hi"}, G), "turn without 'from'"),
    "unknown role bot": (row(H, {"from": "bot", "value": "4"}), "unknown role 'bot'"),
    "unknown role tool": (row(H, {"from": "tool", "value": "4"}), "unknown role 'tool'"),
    "role in capitals": (row({"from": "Human", "value": "hi"}, G), "unknown role 'Human'"),
    "empty role": (row({"from": "", "value": "hi"}, G), "unknown role ''"),
    "turn without value": (row({"from": "human"}, G), "turn without 'value'"),
    "value is a number": (row({"from": "human", "value": 4}, G), "'value' is not a string"),
    "value is a list": (row({"from": "human", "value": ["a"]}, G), "'value' is not a string"),
    "value is a dict": (row(H, {"from": "gpt", "value": {"text": "4"}}), "'value' is not a string"),
    "value is a bool": (row(H, {"from": "gpt", "value": True}), "'value' is not a string"),
    "empty value": (row({"from": "human", "value": ""}, G), "empty 'value'"),
    "whitespace value": (row(H, {"from": "gpt", "value": "  \n\t"}), "empty 'value'"),
    "only a human turn": (row(H), "no assistant turn"),
    "only a system turn": (row(S), "no assistant turn"),
    "two human turns": (row(H, H), "no assistant turn"),
    "assistant first": (row(G, H, G), "does not start with a user turn"),
    "system in the middle": (row(H, S, G), "system turn after the start"),
    "two assistant turns in a row": (row(H, G, G), "turns do not alternate"),
    "two human turns then answer": (row(H, H, G), "turns do not alternate"),
    "ends with a human turn": (row(H, G, H), "does not end with an assistant turn"),
    "score is a string": (row(H, G, score="4.5"), "'score' is not a finite number"),
    "score is a bool": (row(H, G, score=True), "'score' is not a finite number"),
    "score is NaN": (row(H, G, score=float("nan")), "'score' is not a finite number"),
    "score is infinite": (row(H, G, score=float("inf")), "'score' is not a finite number"),
    "source is a number": (row(H, G, source=3), "'source' is not a string"),
    "invalid JSON line": (data.InvalidJson('{"conversations": ['), "invalid JSON"),
}


@pytest.mark.parametrize("bad,reason", MALFORMED.values(), ids=MALFORMED.keys())
def test_each_kind_of_malformed_row_is_named(bad, reason):
    with pytest.raises(data.Malformed) as err:
        data.standardize(bad)
    assert str(err.value) == reason


def test_malformed_rows_are_skipped_and_counted_never_raised():
    rows = [row(H, G)] + [bad for bad, _ in MALFORMED.values()]
    kept, report = data.clean(rows, DataArguments())
    assert len(kept) == 1
    assert sum(report.malformed.values()) == len(MALFORMED)
    assert report.malformed["no assistant turn"] == 3
    line = report.line()
    assert "\n" not in line
    assert f"read {len(rows)} rows, kept 1; skipped {len(MALFORMED)} malformed" in line
    assert "3 no assistant turn" in line


# --------------------------------------------------------------------------- cleaning


def answer(text):
    return {"from": "gpt", "value": text}


def test_cleaning_counts_score_duplicates_and_lengths():
    rows = [
        row(H, answer("A long enough answer."), score=4.9),
        row(H, answer("A long enough answer."), score=4.9),  # exact duplicate
        row(H, answer("Another answer, different."), score=3.0),  # low score
        row(H, answer("ok"), score=5.0),  # answer too short
        row(H, answer("x" * 500), score=5.0),  # conversation too long
        {"conversations": [H, answer("No score at all here.")]},  # unscored: dropped by min_score
        row(H, answer("Kept as well, it is fine."), score=3.5),  # boundary score is kept
    ]
    args = DataArguments(min_score=3.5, min_response_chars=5, max_conversation_chars=200)
    kept, report = data.clean(rows, args)
    assert [k["messages"][1]["content"] for k in kept] == ["A long enough answer.", "Kept as well, it is fine."]
    assert report.dropped == {"duplicate": 1, "score below 3.5": 2, "answer shorter than 5 chars": 1,
                              "longer than 200 chars": 1}
    assert report.kept == 2 and report.read == 7


def test_dedupe_off_keeps_duplicates_and_max_samples_stops_early():
    rows = [row(H, G)] * 5
    kept, _ = data.clean(rows, DataArguments(dedupe=False, max_samples=3))
    assert len(kept) == 3
    kept, report = data.clean(rows, DataArguments())
    assert len(kept) == 1 and report.dropped["duplicate"] == 4


# --------------------------------------------------------------------------- loading


def test_jsonl_loader_counts_bad_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row(H, G)) + "\n{broken\n\n" + json.dumps({"text": "wrong schema"}) + "\n")
    kept, report = data.clean(data.load_rows(str(path)), DataArguments())
    assert len(kept) == 1
    assert report.malformed == {"invalid JSON": 1, "missing 'conversations'": 1}


def test_parquet_in_the_same_schema_loads(tmp_path):
    from datasets import Dataset

    path = tmp_path / "d.parquet"
    Dataset.from_list([row(S, H, G), row(H, answer("Four."))]).to_parquet(str(path))
    kept, report = data.clean(data.load_rows(str(path)), DataArguments())
    assert len(kept) == 2 and report.line().startswith("data: read 2 rows, kept 2")


def test_missing_file_and_unknown_format_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="dataset file not found"):
        data.load_rows(str(tmp_path / "nope.jsonl"))
    (tmp_path / "d.csv").write_text("a,b\n")
    with pytest.raises(UserError, match="unsupported dataset file"):
        data.load_rows(str(tmp_path / "d.csv"))


def test_unreachable_hub_dataset_says_how_to_use_a_local_file(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="pass a local file"):
        data.load_rows("mlabonne/FineTome-100k")


def test_shipped_sample_is_clean_finetome_schema():
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) >= 60
    assert all(set(r) == {"conversations", "source", "score"} for r in rows)
    kept, report = data.clean(rows, DataArguments(min_score=3.5))
    assert report.kept == len(rows), report.line()
    assert sum(1 for k in kept if k["messages"][0]["role"] == "system") >= 5
    assert sum(1 for k in kept if sum(m["role"] == "assistant" for m in k["messages"]) > 1) >= 5
    assert len({r["source"] for r in rows}) >= 4


# --------------------------------------------------------------------------- template and assistant-only mask

CONVERSATION = [
    {"role": "system", "content": "You are a careful tutor."},
    {"role": "user", "content": "Name a prime number."},
    {"role": "assistant", "content": "Seven is prime: its only divisors are 1 and 7."},
    {"role": "user", "content": "And an even one?"},
    {"role": "assistant", "content": "Two, the only even prime."},
]


def masked_text(tokenizer, encoded, keep: int) -> str:
    return "".join(tokenizer.decode([t]) for t, m in zip(encoded["input_ids"], encoded["assistant_masks"]) if m == keep)


def test_chatml_rendering_uses_the_gguf_template(tokenizer):
    text = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert text.startswith("<|im_start|>system\nYou are a careful tutor.<|im_end|>\n<|im_start|>user\n")
    assert "<|im_start|>assistant\nTwo, the only even prime.<|im_end|>" in text
    markers = data.detect_markers(tokenizer)
    assert markers == data.TurnMarkers("<|im_start|>assistant\n", "<|im_end|>")


def test_assistant_mask_token_by_token_on_chatml(tokenizer):
    markers = data.detect_markers(tokenizer)
    encoded = data.tokenize_with_mask(tokenizer, CONVERSATION, markers)
    text = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    ids, mask = encoded["input_ids"], encoded["assistant_masks"]
    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(mask) == len(ids) and set(mask) == {0, 1}
    # every trained token, in order, is the answers and their end-of-turn tokens, nothing else
    assert masked_text(tokenizer, encoded, 1) == (
        "Seven is prime: its only divisors are 1 and 7.<|im_end|>Two, the only even prime.<|im_end|>")
    # the headers, the system prompt and the questions are never trained on
    untrained = masked_text(tokenizer, encoded, 0)
    assert "You are a careful tutor." in untrained and "Name a prime number." in untrained
    assert untrained.count("<|im_start|>assistant\n") == 2
    # token by token: a trained token follows a header or another trained token, and the end token closes it
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    for i, (token, m) in enumerate(zip(ids, mask)):
        if m and not mask[i - 1]:
            assert tokenizer.decode(ids[:i]).endswith("<|im_start|>assistant\n")
        if m and token == im_end:
            assert i + 1 == len(ids) or mask[i + 1] == 0
        if token == im_end and not m:
            assert "assistant" not in tokenizer.decode(ids[max(0, i - 30):i]).rsplit("<|im_start|>", 1)[-1]


def test_assistant_mask_on_the_llama_3_template(tokenizer):
    """Llama-3.2-Instruct's own template (as shipped with TRL), rendered with the embedded tokenizer."""
    import trl

    template = Path(trl.__file__).parent / "chat_templates" / "llama3_2.jinja"
    llama = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    llama.chat_template = template.read_text()
    # as in Llama's own tokenizer, its header and end-of-turn markers are single special tokens
    llama.add_special_tokens({"additional_special_tokens": [
        "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]})
    markers = data.detect_markers(llama)
    assert markers.response_template == "<|start_header_id|>assistant<|end_header_id|>\n\n"
    assert markers.end_of_turn == "<|eot_id|>"
    encoded = data.tokenize_with_mask(llama, CONVERSATION, markers)
    assert masked_text(llama, encoded, 1) == (
        "Seven is prime: its only divisors are 1 and 7.<|eot_id|>Two, the only even prime.<|eot_id|>")
    assert "Name a prime number." in masked_text(llama, encoded, 0)


def test_recipe_markers_override_detection(tokenizer):
    args = DataArguments(response_template="<|im_start|>assistant\n", end_of_turn="<|im_end|>\n")
    markers = data.detect_markers(tokenizer, args)
    encoded = data.tokenize_with_mask(tokenizer, CONVERSATION[1:3], markers)
    assert masked_text(tokenizer, encoded, 1) == "Seven is prime: its only divisors are 1 and 7.<|im_end|>\n"


def build_dataset(tokenizer, args, max_length):
    examples, report = data.load_clean(args)
    return data.tokenize_dataset(tokenizer, examples, report, args, max_length), report


def test_build_dataset_drops_rows_whose_answer_is_past_max_length(tokenizer, tmp_path):
    long_question = {"from": "human", "value": "word " * 300}
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [row(H, G), row(long_question, G), {"bad": 1}]))
    dataset, report = build_dataset(tokenizer, DataArguments(dataset_name=str(path)), max_length=64)
    assert len(dataset) == 1 and set(dataset.column_names) == {"input_ids", "assistant_masks"}
    assert report.dropped == {"no answer within max_length 64": 1}
    assert report.malformed == {"missing 'conversations'": 1}


def test_dataset_in_the_wrong_schema_is_a_clear_error(tokenizer, tmp_path):
    path = tmp_path / "alpaca.jsonl"
    path.write_text("\n".join(json.dumps({"instruction": "hi", "output": "hello"}) for _ in range(3)))
    with pytest.raises(UserError, match=r"no usable rows .*3 missing 'conversations'"):
        build_dataset(tokenizer, DataArguments(dataset_name=str(path)), max_length=64)
