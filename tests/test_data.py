import json
import re
from pathlib import Path

import pytest

from coverletter import data, letter, rubric, synthetic
from coverletter.data import cover_letters
from coverletter.config import DataArguments
from coverletter.errors import UserError

from conftest import ROOT, SAMPLE

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
    out = data.standardize({"conversations": [{"role": "user", "content": "hi"},
                                              {"role": "assistant", "content": "hello"}]})
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


# --------------------------------------------------------------------------- near duplicates, before/after report

QUESTION = {"from": "human", "value": "Why does the sky look blue during the day but red and orange at sunset?"}
ANSWER = (
    "Sunlight contains every colour, and the air scatters short blue wavelengths far more strongly than long red "
    "ones. During the day, sunlight crosses a thin layer of air, so scattered blue light reaches your eyes from "
    "every direction and the whole sky looks blue. At sunset the light travels through much more air before it "
    "reaches you, so most of the blue has been scattered away, and the remaining reds and oranges dominate."
)


def test_near_duplicates_are_dropped_at_the_threshold_and_kept_when_off():
    original = row(QUESTION, answer(ANSWER))
    one_word_changed = row(QUESTION, answer(ANSWER.replace("thin layer", "short layer")))
    respaced = row(QUESTION, answer(ANSWER.upper().replace(", ", " ,  ").replace(".", " ;")))
    same_question_other_answer = row(QUESTION, answer(
        "Air molecules scatter light, a process called Rayleigh scattering, and its strength rises steeply as the "
        "wavelength gets shorter. Violet is scattered even more than blue, yet our eyes are more sensitive to blue "
        "and part of the violet is absorbed high up, which is why we see blue. Low sun means a long path: reds win."))
    other_topic = row({"from": "human", "value": "How do I reverse a list in Python?"},
                      answer("Use my_list.reverse() to reverse it in place, or my_list[::-1] for a reversed copy."))
    rows = [original, one_word_changed, respaced, same_question_other_answer, other_topic]

    kept, report = data.clean(rows, DataArguments(near_dedupe_threshold=0.8))
    assert kept == [data.standardize(r) for r in (original, same_question_other_answer, other_topic)]
    assert report.dropped == {"near duplicate": 2} and report.kept == 3
    assert "filtered 2 (2 near duplicate)" in report.line()

    kept, report = data.clean(rows, DataArguments())
    assert len(kept) == 5 and not report.dropped


def test_near_dedupe_keeps_the_first_and_is_deterministic():
    rows = [row(QUESTION, answer(ANSWER.replace("thin layer", "short layer"))), row(QUESTION, answer(ANSWER)),
            row(QUESTION, answer(ANSWER.replace("much more air", "far more air")))]
    first, _ = data.clean(rows, DataArguments(near_dedupe_threshold=0.8))
    again, _ = data.clean(rows, DataArguments(near_dedupe_threshold=0.8))
    assert first == again == [data.standardize(rows[0])]


@pytest.mark.parametrize("threshold", [0, 1.5, -0.2])
def test_near_dedupe_threshold_out_of_range_is_a_user_error(threshold):
    with pytest.raises(UserError, match="near_dedupe_threshold must be above 0 and at most 1"):
        data.clean([row(H, G)], DataArguments(near_dedupe_threshold=threshold))


def small_report():
    rows = [
        row(H, answer("A long enough answer."), score=4.0),  # 14 + 21 characters
        row(H, answer("A long enough answer."), score=4.0),  # exact duplicate
        row(H, answer("ok"), score=2.0),  # 14 + 2 characters, answer too short
        {"conversations": [H, answer("Unscored answer here.")]},  # 14 + 21 characters, no score
        {"bad": 1},  # malformed: not in the 'before' statistics
    ]
    return data.clean(rows, DataArguments(min_response_chars=5))[1]


def test_report_markdown_shows_before_and_after():
    report = small_report()
    table = report.markdown()
    assert "| rows | 5 | 2 |" in table
    assert "| conversation characters, mean | 30 | 35 |" in table  # (35 + 35 + 16 + 35) / 4 = 30.25
    assert "| conversation characters, median | 35 | 35 |" in table
    assert "| score, mean | 3.33 | 4.00 |" in table
    assert "| score, median (min–max) | 4.00 (2.00–4.00) | 4.00 (4.00–4.00) |" in table
    assert "| rows without a score | 1 | 1 |" in table
    assert ("Skipped 1 malformed (1 missing 'conversations'); "
            "filtered 2 (1 duplicate, 1 answer shorter than 5 chars).") in table
    assert "over the 4 well-formed rows" in table
    assert report.line() == ("data: read 5 rows, kept 2; skipped 1 malformed (1 missing 'conversations'); "
                             "filtered 2 (1 duplicate, 1 answer shorter than 5 chars)")


def test_report_writes_markdown_and_json(tmp_path):
    markdown_path, json_path = small_report().write(tmp_path / "run" / "data_report.md")
    assert json_path == tmp_path / "run" / "data_report.json"
    assert "| rows | 5 | 2 |" in markdown_path.read_text()
    saved = json.loads(json_path.read_text())
    assert saved["read"] == 5 and saved["kept"] == 2 and saved["dropped"]["duplicate"] == 1
    assert saved["before"]["chars_mean"] == 30.2 and saved["after"]["rows"] == 2 and saved["after"]["unscored"] == 1


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


# --------------------------------------------------------------------------- cover-letter datasets

COVER_SAMPLE = ROOT / "data" / "cover-letters-sample.jsonl"


def cover_rows():
    return [json.loads(line) for line in COVER_SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_shipped_cover_letters_load_with_the_default_mapping():
    examples, report = data.load_cover_letters(str(COVER_SAMPLE), data.DEFAULT_COVER_LETTER_COLUMNS,
                                               faithful_only=False)
    rows = cover_rows()
    assert report.kept == report.read == len(rows) >= 12, report.line()
    assert all(set(r) == {"Job Title", "Preferred Qualifications", "Hiring Company", "Applicant Name",
                          "Past Working Experience", "Current Working Experience", "Skillsets", "Qualifications",
                          "Cover Letter"} for r in rows)
    first = rows[0]
    profile = letter.make_profile(
        name=first["Applicant Name"], job_title=first["Job Title"], company_name=first["Hiring Company"],
        skills="\n".join(first[c] for c in ("Skillsets", "Qualifications", "Current Working Experience",
                                            "Past Working Experience")),
        reasons=first["Preferred Qualifications"], tone="formal", length="standard")
    assert examples[0] == {
        "messages": letter.build_messages(profile) + [{"role": "assistant", "content": first["Cover Letter"]}],
        "source": str(COVER_SAMPLE), "score": None}
    assert {cover_letters.length_of(e["messages"][-1]["content"]) for e in examples} == set(letter.LENGTHS)
    assert not any(letter.PLACEHOLDER.search(r["Cover Letter"]) for r in rows)


def test_rows_whose_letter_invents_facts_are_dropped_and_counted():
    """The sample's letters are like the Hub's: most add up years ("five years" for 2 + 3) or name a degree the
    row does not; each one the rubric finds is dropped, and only those."""
    examples, report = data.load_cover_letters(str(COVER_SAMPLE), data.DEFAULT_COVER_LETTER_COLUMNS)
    faithful = [row["Cover Letter"] for row in cover_rows()
                if rubric.score_letter(row["Cover Letter"], row_profile(row))["faithful"]]
    assert [e["messages"][-1]["content"] for e in examples] == faithful and 0 < len(faithful) < len(cover_rows())
    assert report.dropped == {"letter states facts its row lacks": len(cover_rows()) - len(faithful)}


def row_profile(row: dict) -> letter.Profile:
    """A sample row's facts, as the default mapping reads them."""
    return letter.make_profile(
        name=row["Applicant Name"], job_title=row["Job Title"], company_name=row["Hiring Company"],
        skills="\n".join(row[c] for c in ("Skillsets", "Qualifications", "Current Working Experience",
                                          "Past Working Experience")),
        reasons=row["Preferred Qualifications"], length=cover_letters.length_of(row["Cover Letter"]))


def test_synthetic_and_a_table_mix_as_one_source_list():
    table = str(COVER_SAMPLE)
    examples, report = mixed(cover_letters=f"synthetic+{table}", cover_letter_samples=30, cover_letter_fraction=1.0)
    assert {e["source"] for e in examples} == {"coverletter-synthetic-seed0", table}
    assert sum(is_letter(e) for e in examples) == 30 and report.dropped["letter states facts its row lacks"] > 0


def test_shipped_cover_letters_do_not_reuse_evaluation_names():
    profiles = [json.loads(line) for line in (ROOT / "data" / "eval-profiles.jsonl").read_text().splitlines()]
    text = COVER_SAMPLE.read_text(encoding="utf-8")
    assert not [p[key] for p in profiles for key in ("name", "company_name") if p[key] in text]


def test_custom_mapping_joins_columns():
    columns = data.parse_columns(
        "name=Applicant Name, job_title=Job Title, company_name=Hiring Company, skills=Skillsets+Qualifications, "
        "reasons=Preferred Qualifications, job_description=Current Working Experience, letter=Cover Letter")
    examples, report = data.load_cover_letters(str(COVER_SAMPLE), columns, limit=2, faithful_only=False)
    assert len(examples) == report.kept == 2
    first = cover_rows()[0]
    prompt = examples[0]["messages"][1]["content"]
    assert f"Skills: {first['Skillsets']}\n{first['Qualifications']}\nReasons for applying:" in prompt
    assert f"The job advertisement:\n<<<\n{first['Current Working Experience']}\n>>>" in prompt
    assert first["Past Working Experience"] not in prompt


def test_unusable_cover_letter_rows_are_skipped_and_counted(tmp_path):
    good = cover_rows()[0]
    bad = [
        {**good, "Cover Letter": "  "},
        {key: value for key, value in good.items() if key != "Applicant Name"},
        {**good, "Skillsets": "", "Qualifications": None, "Current Working Experience": " ",
         "Past Working Experience": ""},
        {**good, "Skillsets": ""},  # the other columns joined into skills still say something: kept
        {**good, "Job Title": "Engineer " * 20},
        {**good, "Cover Letter": good["Cover Letter"].replace("Harborlight Logistics", "[Company Name]", 1)},
        ["not", "an", "object"],
    ]
    path = tmp_path / "letters.jsonl"
    path.write_text("\n".join([json.dumps(good), *map(json.dumps, bad), "{broken"]) + "\n")
    examples, report = data.load_cover_letters(str(path), data.DEFAULT_COVER_LETTER_COLUMNS, faithful_only=False)
    assert len(examples) == report.kept == 2 and report.read == 9
    assert report.malformed == {
        "empty 'Cover Letter'": 1, "empty 'Applicant Name'": 1, "row is not an object": 1, "invalid JSON": 1,
        "empty 'Skillsets' + 'Qualifications' + 'Current Working Experience' + 'Past Working Experience'": 1,
        "invalid profile: Job title is too long.": 1}
    assert report.dropped == {"letter has a placeholder": 1}


def test_unknown_column_lists_the_dataset_columns():
    columns = {**data.DEFAULT_COVER_LETTER_COLUMNS, "name": "Applicant"}
    expected = r"column 'Applicant' is not in .*its columns are: 'Job Title', .*'Applicant Name'"
    with pytest.raises(UserError, match=expected):
        data.load_cover_letters(str(COVER_SAMPLE), columns)


def test_mapping_with_an_unknown_or_missing_field_is_a_user_error():
    with pytest.raises(UserError, match="unknown field 'skill' .*the fields are: name, job_title"):
        data.load_cover_letters(str(COVER_SAMPLE), {**data.DEFAULT_COVER_LETTER_COLUMNS, "skill": "Skillsets"})
    columns = {key: value for key, value in data.DEFAULT_COVER_LETTER_COLUMNS.items() if key != "letter"}
    with pytest.raises(UserError, match="the column mapping has no letter"):
        data.load_cover_letters(str(COVER_SAMPLE), columns)


def test_parse_columns():
    assert data.parse_columns("name=Applicant Name,job_title=Job Title,skills=Skillsets+Qualifications") == {
        "name": "Applicant Name", "job_title": "Job Title", "skills": ["Skillsets", "Qualifications"]}
    assert data.parse_columns(" letter = Cover Letter ") == {"letter": "Cover Letter"}


@pytest.mark.parametrize("text,message", [
    ("name", "cannot read 'name'"),
    ("=Applicant Name", "cannot read '=Applicant Name'"),
    ("skills=Skillsets+", "cannot read 'skills=Skillsets+'"),
    ("name=A,,letter=B", "cannot read ''"),
    ("name=A,name=B", "field 'name' is mapped twice"),
])
def test_parse_columns_rejects_bad_text(text, message):
    with pytest.raises(UserError, match=re.escape(message)):
        data.parse_columns(text)


@pytest.mark.parametrize("words,length", [(50, "short"), (150, "short"), (200, "short"), (201, "standard"),
                                          (320, "standard"), (400, "long"), (900, "long")])
def test_length_of_a_letter_is_the_range_holding_its_word_count(words, length):
    assert cover_letters.length_of("word " * words) == length


# --------------------------------------------------------------------------- mixing cover letters


def mixed(**options):
    args = DataArguments(dataset_name=str(SAMPLE), min_score=3.5, **options)
    return data.load_clean(args)


def is_letter(example):
    return example["source"].startswith("coverletter-synthetic")


def test_mixture_follows_the_fraction_and_cuts_the_larger_side():
    finetome, _ = mixed()
    examples, report = mixed(cover_letters="synthetic", cover_letter_samples=500, cover_letter_fraction=0.75)
    letters = [e for e in examples if is_letter(e)]
    assert len(letters) == 3 * len(finetome)  # 3 letters per FineTome conversation; the 500 letters were cut
    assert len(examples) - len(letters) == len(finetome)
    examples, report = mixed(cover_letters="synthetic", cover_letter_samples=20, cover_letter_fraction=0.5)
    assert sum(map(is_letter, examples)) == 20 and len(examples) == 40  # FineTome cut to 20
    assert report.dropped["cut to a 50% cover-letter mixture"] == len(finetome) - 20
    assert report.kept == 40 and report.after.rows == 40
    assert report.read == report.before.rows == len(finetome) + 20
    examples, report = mixed(cover_letters="synthetic", cover_letter_samples=500, cover_letter_fraction=0.75)
    assert report.read - sum(report.dropped.values()) - sum(report.malformed.values()) == report.kept


def test_letters_only_and_no_letters():
    examples, _ = mixed(cover_letters="synthetic", cover_letter_samples=30, cover_letter_fraction=1.0)
    assert len(examples) == 30 and all(map(is_letter, examples))
    examples, _ = mixed(cover_letters="synthetic", cover_letter_samples=30, cover_letter_fraction=0.0)
    assert not any(map(is_letter, examples))


def test_a_cover_letter_table_is_mixed_through_its_column_mapping():
    columns = "name=Applicant Name,job_title=Job Title,company_name=Hiring Company,skills=Skillsets,"\
              "reasons=Preferred Qualifications,letter=Cover Letter"
    table = str(ROOT / "data/cover-letters-sample.jsonl")
    for options in ({"cover_letter_columns": columns}, {}):  # a mapping given, or the default layout
        examples, report = mixed(cover_letters=table, cover_letter_fraction=0.1, cover_letters_faithful_only=False,
                                 **options)
        tabled = [e for e in examples if "cover-letters-sample" in e["source"]]
        assert tabled and tabled[0]["messages"][1]["content"].startswith("Write a cover letter")
        assert report.malformed == {}


def test_cover_letters_in_the_finetome_schema_are_taken_as_they_are(tmp_path):
    path = tmp_path / "letters.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in synthetic.generate(10, seed=5)))
    examples, _ = mixed(cover_letters=str(path), cover_letter_fraction=1.0)
    assert len(examples) == 10 and examples[0]["messages"][-1]["content"].startswith("Dear")
