"""The written letters (data/letters/): the corpus holds the mix the issue asks for, every letter passes the whole
rubric, no two letters share a sentence of their own, the held-out split is by applicant; bad rows are named,
skipped and counted, and training goes on."""

import json
import logging

import pytest

from conftest import ROOT
from coverletter import letter, prose, synthetic
from coverletter.app import EXAMPLES
from coverletter.config import DataArguments
from coverletter.data import letters, load_clean

CORPUS = [letters.TRAIN, letters.HELDOUT]


@pytest.fixture(scope="module")
def rows():
    return [row for path in CORPUS for _, row, _ in letters.read_rows(path)]


@pytest.fixture(scope="module")
def stats():
    return letters.statistics(CORPUS)


def test_every_row_passes_the_whole_rubric_and_is_its_own_applicant(rows, caplog):
    with caplog.at_level(logging.WARNING):
        kept = {path: letters.read_letters(path) for path in CORPUS}
    assert not caplog.records, [r.getMessage() for r in caplog.records][:5]
    assert sum(len(pairs) for pairs, _ in kept.values()) == len(rows) >= 500
    assert len({row["name"].lower() for row in rows}) == len(rows)


def test_the_held_out_split_is_by_applicant_and_never_trained_on(rows):
    heldout = [row for _, row, _ in letters.read_rows(letters.HELDOUT)]
    train = [row for _, row, _ in letters.read_rows(letters.TRAIN)]
    assert len(heldout) >= 80
    assert all(letters.held_out(row["name"]) for row in heldout) and not any(letters.held_out(r["name"]) for r in train)
    examples, _ = load_clean(DataArguments(dataset_name=str(ROOT / "data/finetome-sample.jsonl"),
                                           cover_letters="written", cover_letter_fraction=0.9))
    trained = "\n".join(e["messages"][-1]["content"] for e in examples)
    assert not [row["name"] for row in heldout if row["letter"] in trained]


def test_the_mix_is_what_job_seekers_bring(stats):
    assert stats["industries"] >= 12 and set(stats["levels"]) == {"entry", "mid", "senior"}
    assert set(stats["tones"]) == {"formal", "warm", "enthusiastic", "concise"}
    assert set(stats["lengths"]) == {"short", "standard", "long"}
    assert stats["with_ad"] >= 0.4 and stats["full_resume"] >= 0.4 and stats["thin"] >= 0.1


def test_names_and_companies_are_new_to_the_project(rows):
    taken = set()
    for path in ROOT.glob("data/eval-profiles*.jsonl"):
        for line in path.read_text().splitlines():
            profile = json.loads(line)
            taken |= {profile["name"].lower(), profile["company_name"].lower()}
    taken |= {value.lower() for example in EXAMPLES for value in example[:3:2]}
    assert not [row["name"] for row in rows if {row["name"].lower(), row["company_name"].lower()} & taken]


def test_written_not_generated_no_shared_sentence_and_distinct_trigrams_far_above_the_templates(stats):
    assert stats["shared_sentences"] == 0
    generated = [(row["conversations"][-1]["value"], profile) for profile, row in synthetic.generate_pairs(500, 7)]
    templates = prose.distinct_n([prose.masked(text, profile) for text, profile in generated])
    assert templates < 0.2 and stats["distinct_3_masked"] >= 0.6, (templates, stats["distinct_3_masked"])


# --------------------------------------------------------------------------- bad rows


def good_row() -> dict:
    return json.loads(letters.TRAIN.read_text(encoding="utf-8").splitlines()[0])


def test_bad_rows_are_named_skipped_and_counted_and_training_goes_on(tmp_path, caplog):
    good = good_row()
    failing = {**good, "name": "Another Applicant",
               "letter": good["letter"].replace(good["company_name"], "your company")}
    rows = [good, {k: v for k, v in good.items() if k != "reasons"}, {**good, "job_title": " "}, {**good},
            failing, ["not", "an", "object"]]
    path = tmp_path / "letters.jsonl"
    path.write_text("\n".join([*map(json.dumps, rows), "{broken"]) + "\n")
    with caplog.at_level(logging.WARNING):
        examples, report = letters.load_letters(path)
    assert len(examples) == report.kept == 1 and report.read == 7
    assert report.dropped == {"missing reasons": 1, "empty job_title": 1, "duplicate applicant": 1,
                              "letter fails the rubric": 1, "row is not an object": 1, "invalid JSON": 1}
    said = [r.getMessage() for r in caplog.records]
    assert f"{path}:2 skipped: missing reasons" in said and f"{path}:7 skipped: invalid JSON" in said
    assert any(m.startswith(f"{path}:5 skipped: letter fails the rubric: ") and "company" in m for m in said)
    args = DataArguments(dataset_name=str(ROOT / "data/finetome-sample.jsonl"), cover_letters=str(path),
                         cover_letter_fraction=0.5)
    mixed, _ = load_clean(args)  # the file is taken as written letters by its layout, and training goes on
    assert sum(e["source"] == str(path) for e in mixed) == 1


def test_the_prompt_is_the_apps_own():
    examples, _ = letters.load_letters(letters.HELDOUT)
    row = json.loads(letters.HELDOUT.read_text(encoding="utf-8").splitlines()[0])
    profile = letters.row_profile(row)
    assert examples[0]["messages"] == letter.build_messages(profile) + [{"role": "assistant", "content": row["letter"]}]


def test_the_letters_command_checks_files_and_fails_on_a_bad_row(tmp_path, capsys):
    from coverletter import cli

    good = good_row()
    clean, bad = tmp_path / "clean.jsonl", tmp_path / "bad.jsonl"
    clean.write_text(json.dumps(good) + "\n")
    bad.write_text(json.dumps({**good, "name": "Another Applicant", "letter": good["letter"].replace(
        good["company_name"], "your company")}) + "\n")
    cli.main(["letters", "check", "--paths", str(clean)])
    assert f"{clean}: 1 of 1 rows pass" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        cli.main(["letters", "check", "--paths", str(bad)])
    captured = capsys.readouterr()
    assert stopped.value.code == 1 and f"{bad}: 0 of 1 rows pass" in captured.out
    assert "coverletter: check failed: 1 problem(s)" in captured.err
    with pytest.raises(SystemExit) as stopped:
        cli.main(["letters", "chek"])
    assert stopped.value.code == 2 and "usage: coverletter letters check|split|stats" in capsys.readouterr().err
