import json
import math

import pytest

from coverletter import evaluate, letter, prose, rubric, runs
from coverletter.errors import UserError
from coverletter.embedded import embedded_gguf

from conftest import ROOT, run_cli, two_written_letters


def test_profiles_with_bad_lines_are_skipped_and_counted(tmp_path):
    good = {"name": "A B", "job_title": "Cook", "company_name": "Harbor Bistro", "skills": "knife work",
            "reasons": "Seasonal menu.", "tone": "warm", "length": "short"}
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([json.dumps(good), "", "{bad json", json.dumps({**good, "name": ""}),
                               json.dumps({**good, "skills": 42}), json.dumps([1, 2]),
                               json.dumps({**good, "tone": "angry"})]))
    profiles, skipped = evaluate.load_profiles(path)
    assert [p.name for p in profiles] == ["A B"]
    assert skipped == {"empty line": 1, "invalid JSON": 1, "Applicant name is required": 1, "non-string value": 1,
                       "not an object": 1, "Tone must be one of: formal, warm, enthusiastic, concise": 1}


def test_model_that_is_not_a_gguf_or_run_is_a_clear_error(tmp_path):
    (tmp_path / "model.bin").write_text("x")
    for bad in (tmp_path / "model.bin", tmp_path / "nope", tmp_path):
        with pytest.raises(UserError, match="is not a GGUF file nor a run folder"):
            runs.find_gguf(bad)


def test_shipped_profiles_are_varied_and_apart_from_the_app_examples():
    from coverletter.app import EXAMPLES

    profiles, skipped = evaluate.load_profiles(ROOT / "data" / "eval-profiles.jsonl")
    assert len(profiles) >= 30 and not skipped
    assert {p.tone for p in profiles} == set(letter.TONES) and {p.length for p in profiles} == set(letter.LENGTHS)
    assert len({p.name for p in profiles}) == len(profiles)
    assert not {p.name for p in profiles} & {e[0] for e in EXAMPLES}
    assert not {p.company_name for p in profiles} & {e[2] for e in EXAMPLES}


@pytest.mark.parametrize("resumes", ["eval-profiles-resume.jsonl", "eval-profiles-resume-full.jsonl"])
def test_the_resume_profiles_are_the_shipped_ones_with_their_skills_in_a_resume(resumes):
    profiles, _ = evaluate.load_profiles(ROOT / "data" / "eval-profiles.jsonl")
    with_resume, skipped = evaluate.load_profiles(ROOT / "data" / resumes)
    assert not skipped and len(with_resume) == len(profiles)
    for typed, uploaded in zip(profiles, with_resume):
        assert uploaded.skills == "" and uploaded.resume.startswith(typed.name + "\n")
        assert {**uploaded.as_dict(), "skills": typed.skills, "resume": ""} == typed.as_dict()
        # the full résumés' contact details, jobs and degrees are not read as skills
        assert rubric.profile_skills(uploaded) == rubric.profile_skills(typed)


@pytest.mark.slow
def test_evaluate_three_profiles_with_the_embedded_gguf_writes_its_report(tmp_path):
    out = tmp_path / "eval"
    result = run_cli("evaluate", "--model", str(embedded_gguf("smollm2-135m-instruct")), "--out", str(out),
                     "--limit", "3", "--written_heldout", str(two_written_letters(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    letters = report["letters"]
    assert len(letters) == 3
    for entry in letters:  # each score is the rubric's own verdict on the letter it wrote
        profile = letter.make_profile(**entry["profile"])
        assert entry["letter"].strip() and entry["rules"] == rubric.score_letter(entry["letter"], profile)
        assert entry["passed"] == all(entry["rules"].values())
    assert report["pass_rate"] == sum(e["passed"] for e in letters) / 3
    assert report["rule_pass_rates"] == {r: sum(e["rules"][r] for e in letters) / 3 for r in rubric.RULES}
    assert math.isfinite(report["heldout_loss"]) and 0.5 < report["heldout_loss"] < 6
    assert "| rule | passed |" in (out / "report.md").read_text()
    profiles = [letter.make_profile(**e["profile"]) for e in letters]
    assert report["boilerplate_share"] == prose.boilerplate([(e["letter"], p) for e, p in zip(letters, profiles)])[0]
    assert report["invented_fact_share"] == sum(
        any(rubric.invented_facts(e["letter"], p)[kind] for kind in ("number", "credential", "name"))
        for e, p in zip(letters, profiles)) / 3
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert "pass rate" in result.stdout
    assert report["length_steering"] is True and "length steering: on." in (out / "report.md").read_text()
    # the base model writes the written letters less well than it reads FineTome
    assert math.isfinite(report["written_letters_loss"]) and 0.5 < report["written_letters_loss"] < 6


@pytest.mark.parametrize("flag", ["--no_length_steering", "--no-length-steering"])  # the old spelling still works
def test_evaluate_can_leave_the_length_to_the_model_alone(tmp_path, flag):
    result = run_cli("evaluate", "--model", str(embedded_gguf("smollm2-135m-instruct")), "--out", str(tmp_path),
                     "--limit", "1", flag, "--written_heldout", str(two_written_letters(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "report.json").read_text())["length_steering"] is False
    assert "length steering: off." in (tmp_path / "report.md").read_text()
