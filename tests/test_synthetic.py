"""The synthetic cover-letter generator: deterministic, in the app's exact prompt, complete letters, varied."""

import json

import pytest

from coverletter import data, evaluate, letter, prose, rubric, steering, synthetic

from conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def pairs():
    return synthetic.generate_pairs(2000, seed=0)


def test_same_seed_same_examples_other_seed_other_examples(pairs):
    assert [row for _, row in synthetic.generate_pairs(50, seed=0)] == [row for _, row in pairs[:50]]
    assert synthetic.generate(50, seed=1) != synthetic.generate(50, seed=0)


def test_rows_are_finetome_schema_with_the_apps_exact_prompt(pairs):
    for profile, row in pairs:
        assert set(row) == {"conversations", "source", "score"}
        example = data.standardize(row)  # the pipeline's own schema check
        assert example["messages"][:2] == letter.build_messages(profile)
        assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]


def test_two_thousand_distinct_examples_every_letter_passes_the_rubric_but_its_habits(pairs):
    """True and well-formed, faithful and grammatical included; template prose by construction (the written letters,
    data/letters/, are what pass the habits)."""
    assert len({json.dumps(row, sort_keys=True) for _, row in pairs}) == 2000
    for profile, row in pairs:
        text = row["conversations"][-1]["value"]
        rules = rubric.score_letter(text, profile)
        assert all(ok for rule, ok in rules.items() if rule not in rubric.HABITS), (rules, text)
        assert not letter.PLACEHOLDER.search(text) and "{" not in text and "}" not in text


def test_every_tone_length_and_some_job_ads_are_covered(pairs):
    profiles = [p for p, _ in pairs]
    assert {p.tone for p in profiles} == set(letter.TONES)
    assert {p.length for p in profiles} == set(letter.LENGTHS)
    assert 0.2 < sum(bool(p.job_description) for p in profiles) / len(profiles) < 0.5


def test_some_applicants_give_a_resume_and_most_leave_the_skills_to_it(pairs):
    """The app takes a résumé instead of typed skills; the corpus teaches letters for both (each passes the whole
    rubric, above), and never the prompt's stand-in for the skills."""
    given = [(p, row) for p, row in pairs if p.resume]
    assert 0.1 < len(given) / len(pairs) < 0.3
    assert 0.5 < sum(not p.skills for p, _ in given) / len(given) < 0.95
    for profile, row in given:
        assert profile.resume.startswith(profile.name + "\n")
        assert letter.SKILLS_IN_RESUME not in row["conversations"][-1]["value"]
        assert f"Skills: {letter.SKILLS_IN_RESUME}" in row["conversations"][1]["value"] or profile.skills


def test_each_applicant_comes_at_every_length_and_only_the_length_differs(pairs):
    for first in range(0, 30, 3):
        triple = pairs[first: first + 3]
        profiles = [profile for profile, _ in triple]
        letters = [row["conversations"][-1]["value"] for _, row in triple]
        assert [p.length for p in profiles] == list(letter.LENGTHS)
        assert len({(p.name, p.company_name, p.skills, p.tone) for p in profiles}) == 1
        assert len({text.split("\n\n")[0] for text in letters}) == 1  # same greeting: same wording to draw on
        words = [letter.word_count(text) for text in letters]
        assert words == sorted(words), words
        for shorter, longer in zip(letters, letters[1:]):  # the same length twice only when the facts ran out
            assert letter.word_count(shorter) < letter.word_count(longer) or shorter == longer


def test_a_thin_profile_gets_an_honestly_shorter_letter_not_a_padded_one(pairs):
    """Long letters whose facts ran out stop short of 320 words; the prompt's range says so, and they still reach
    the floor that `letter.word_range` gives their facts (what the rubric and the app's steering hold them to)."""
    thin = [(p, row) for p, row in pairs if p.length == "long"
            and letter.word_count(row["conversations"][-1]["value"]) < letter.LENGTHS["long"][0]]
    assert len(thin) > 100  # the corpus teaches it, with many examples
    for profile, row in thin:
        low, high = letter.word_range(profile)
        assert low < letter.LENGTHS["long"][0] and low <= letter.word_count(row["conversations"][-1]["value"])
        assert f"{low} to {high} words" in row["conversations"][1]["value"]


def test_wording_varies_beyond_swapped_names(pairs):
    stats = synthetic.corpus_stats(pairs)
    by_text = {}
    for profile, row in pairs:
        by_text.setdefault(prose.masked(row["conversations"][-1]["value"], profile), set()).add(profile.name)
    assert all(len(names) == 1 for names in by_text.values())  # no two applicants' letters alike, names masked
    assert stats["distinct_letters_masked"] == len(by_text) > 1200
    assert stats["boilerplate_share"] <= 0.10  # the target for the corpus itself
    assert stats["distinct_opening_sentences"] >= 12
    single_template = [(p, {"conversations": [{"from": "gpt", "value": f"Dear team,\n\nI want to be {p.job_title} at "
                                                                         f"{p.company_name}.\n\nBest,\n{p.name}"}]})
                       for p, _ in pairs[:200]]
    assert synthetic.corpus_stats(single_template)["distinct_letters_masked"] == 1  # the statistic can fail
    assert stats["distinct_3"] > 0.04


def test_no_name_or_company_shared_with_the_evaluation_profiles(pairs):
    profiles, _ = evaluate.load_profiles(ROOT / "data/eval-profiles.jsonl")
    eval_name_words = {w for p in profiles for w in p.name.split()}
    eval_company_words = {p.company_name.split()[0] for p in profiles}
    pool_names = set(synthetic.FIRST_NAMES) | set(synthetic.LAST_NAMES)
    assert not pool_names & eval_name_words
    assert not set(synthetic.COMPANY_PREFIXES) & eval_company_words
    assert not {p.company_name for p, _ in pairs} & {p.company_name for p in profiles}


def test_synth_command_writes_jsonl_and_prints_its_variety(tmp_path):
    out = tmp_path / "letters.jsonl"
    result = run_cli("synth", "--count", "40", "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == synthetic.generate(40, seed=3)
    assert json.loads(result.stdout) == synthetic.corpus_stats(synthetic.generate_pairs(40, seed=3))



def test_the_steering_knows_how_every_synthetic_closing_begins():
    """The length steering holds back a closing while a letter is short (`steering.CLOSING_STARTS`): each closing
    and thanks the synthetic letters teach must begin the way it looks for."""
    import re

    starts = [rf"{re.escape(start)}\s*{word}\b" for start, words in steering.CLOSING_STARTS.items() for word in words]
    for closing in [line for lines in (*synthetic.CLOSINGS.values(), *synthetic.THANKS.values()) for line in lines]:
        assert any(re.match(start, closing, re.IGNORECASE) for start in starts), closing
