import json
import math
from types import SimpleNamespace

import pytest

from coverletter import evaluate, facts, generate, guards, letter, runs
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
        assert facts.profile_skills(uploaded) == facts.profile_skills(typed)


@pytest.mark.slow
def test_evaluate_three_profiles_with_the_embedded_gguf_writes_its_report(tmp_path):
    out = tmp_path / "eval"
    result = run_cli("evaluate", "--model", str(embedded_gguf("smollm2-135m-instruct")), "--out", str(out),
                     "--limit", "3", "--written_heldout", str(two_written_letters(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert len(report["letters"]) == 3 and report["temperature"] == letter.DEFAULT_TEMPERATURE
    assert math.isfinite(report["heldout_loss"]) and 0.5 < report["heldout_loss"] < 6
    assert "| rule | passed |" in (out / "report.md").read_text()
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert "pass rate" in result.stdout
    assert report["length_steering"] is True and "length steering: on." in (out / "report.md").read_text()
    # the base model writes the written letters less well than it reads FineTome
    assert math.isfinite(report["written_letters_loss"]) and 0.5 < report["written_letters_loss"] < 6


def test_evaluate_can_leave_the_length_to_the_model_alone(tmp_path, monkeypatch):
    decoded_with = []

    def recorded(llm, profile, steer_length=True):
        found = guards.processors(llm, profile, steer_length)
        decoded_with.append({type(p).__name__ for p in found})
        return found

    monkeypatch.setattr(generate, "processors", recorded)
    monkeypatch.setattr(evaluate, "gguf_heldout_loss", lambda llm, path: 1.0)  # not what this test is about
    monkeypatch.setattr(evaluate, "gguf_written_loss", lambda llm, path, letters: 1.0)
    model = str(embedded_gguf("smollm2-135m-instruct"))
    report = evaluate.main(["--model", model, "--out", str(tmp_path), "--limit", "1", "--no_length_steering"])
    assert decoded_with == [{"FactGuard", "NameGuard", "ClaimGuard", "RepeatGuard", "CompanyGuard", "Signature"}]
    assert report["length_steering"] is False and "length steering: off." in (tmp_path / "report.md").read_text()
    evaluate.main(["--model", model, "--limit", "1"])
    assert "LengthSteering" in decoded_with[1]


class WriterOfGivenLetters:
    """Stands in for LetterWriter.for_gguf: the letter given for each applicant, whatever the model."""

    def __init__(self, letters: dict[str, str]):
        self.letters, self.model = letters, SimpleNamespace(llm=None)

    def __call__(self, gguf):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, profile, temperature, steer_length):
        return self.letters[profile.name]


def test_the_report_counts_what_went_wrong_in_letters_of_known_faults(tmp_path, monkeypatch):
    """Three letters from the written corpus: one as written (it passes everything), one with a number the profile
    lacks, one naming a skill three times. The report's figures must be those, whatever the rubric's internals."""
    rows = [json.loads(line) for line in (ROOT / "data" / "letters" / "heldout.jsonl").read_text().splitlines()[:3]]
    faults = ["", " Last year I cut the cloud bill by 37%.",
              " I know Ruby on Rails well, and Ruby on Rails is where I do my best work."]
    letters = {}
    for row, fault in zip(rows, faults):
        paragraphs = row["letter"].split("\n\n")
        paragraphs[1] += fault
        letters[row["name"]] = "\n\n".join(paragraphs)
    (tmp_path / "profiles.jsonl").write_text("".join(
        json.dumps({k: v for k, v in row.items() if k != "letter"}) + "\n" for row in rows))
    (tmp_path / "x.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(evaluate.LetterWriter, "for_gguf", WriterOfGivenLetters(letters))
    monkeypatch.setattr(evaluate, "gguf_heldout_loss", lambda llm, path: 2.5)
    monkeypatch.setattr(evaluate, "gguf_written_loss", lambda llm, path, letters: 1.5)
    report = evaluate.evaluate(tmp_path / "x.gguf", tmp_path / "profiles.jsonl", tmp_path / "out")
    assert [x["passed"] for x in report["letters"]] == [True, False, False]
    assert report["pass_rate"] == 1 / 3 and report["habit_free_rate"] == 2 / 3
    assert report["invented_fact_share"] == 1 / 3 and report["borrowed_claim_share"] == 0
    failing = {rule: rate for rule, rate in report["rule_pass_rates"].items() if rate < 1}
    assert failing == {"faithful": 2 / 3, "skills_not_repeated": 2 / 3}
    assert report["letters"][1]["invented"] == {"number": ["37"]}
    assert report["letters"][2]["habits"] == {"repeated_skill": ["ruby on rails"]}
    assert (report["heldout_loss"], report["written_letters_loss"]) == (2.5, 1.5)
    table = (tmp_path / "out" / "report.md").read_text()
    assert "Pass rate: **33%** of 3 letters; free of the three habits of template prose: **67%**" in table
    assert "| faithful | 67% |" in table and "number: 37" in table


def test_a_letter_draws_on_a_full_resume_by_its_current_job_and_a_figure_it_states():
    resume = ("Experience\nWarehouse Supervisor | Redfern & Co | 2019 – Present\nPicker | Alder Freight | 2015 - 2019\n"
              "- cut pick errors by 30%\n\nEducation\nBA, Ohio State University, 2012")
    profile = letter.make_profile(name="Haruto Sasaki", job_title="Operations Manager", company_name="Calder Logistics",
                                  skills="", reasons="Calder ships to every port I know.", resume=resume)
    drawn = evaluate.draws_on_resume
    assert drawn("At Redfern & Co I cut pick errors by 30%.", profile) == {"current_job": True, "resume_figure": True}
    assert drawn("At Alder Freight I cut errors by a third in 2019.", profile) == {  # the job before; a year is no
        "current_job": False, "resume_figure": False}  # figure of an achievement
    assert drawn("As a warehouse supervisor I plan every shift.", profile)["current_job"]  # a title, not the one
    applied = letter.make_profile(**{**profile.as_dict(), "job_title": "Warehouse Supervisor"})  # applied for
    assert not drawn("As a warehouse supervisor I plan every shift.", applied)["current_job"]
    thin = letter.make_profile(**{**profile.as_dict(), "skills": "forklifts", "resume": ""})
    assert drawn("Anything at all.", thin) == {"current_job": None, "resume_figure": None}


def test_the_written_letters_draw_on_the_current_job_and_a_figure_of_their_resumes():
    from coverletter.data.letters import HELDOUT, TRAIN, read_letters

    letters = [{"letter": text, "profile": profile.as_dict()} for path in (TRAIN, HELDOUT)
               for text, profile in read_letters(path)[0]]
    shares = evaluate.resume_drawn_on(letters)  # the measured shares: docs/data.md
    assert shares["current_job"] >= 0.9 and shares["resume_figure"] >= 0.95, shares
