"""`data.augment`: renamed copies of the written letters, consistent everywhere, skills and numbers untouched."""

import re

import pytest

from coverletter import letter, rubric
from coverletter.config import DataArguments
from coverletter.data import augment, letters, load_clean

from conftest import ROOT


@pytest.fixture(scope="module")
def pairs():
    return letters.read_letters()[0][:60]


def words_of(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_][\w'’-]*", text)}


def test_each_copy_is_another_training_applicant_at_another_brand_renamed_everywhere(pairs):
    copies = augment.augment(pairs, 2, seed=0)
    common = augment.common_words(text for text, _ in pairs)
    usable = [(t, p) for t, p in pairs if augment.renamable(p, common)]
    assert len(copies) > 1.8 * len(usable)  # two copies of nearly every renamable letter pass the rubric
    train_names = {p.name for _, p in pairs}
    for (text, profile), (source_text, source) in zip(copies, [u for u in usable for _ in range(2)]):
        assert profile.name in train_names and profile.name != source.name
        assert augment.brand(profile.company_name) != augment.brand(source.company_name)
        old = {*source.name.lower().split(), augment.brand(source.company_name).lower()} - words_of(profile.name)
        everything = "\n".join([text, *profile.as_dict().values()])
        assert not old & words_of(everything), old & words_of(everything)  # no old name or brand left anywhere
        assert profile.skills == source.skills and profile.job_title == source.job_title
        assert re.findall(r"\d+", text) == re.findall(r"\d+", source_text)  # every number where it was
        assert all(rubric.score_letter(text, profile).values())
        assert len(text.split()) == len(source_text.split())  # the prose itself unchanged


def test_the_copies_never_take_a_held_out_applicants_name():
    train, _ = letters.read_letters(letters.TRAIN)
    heldout = {p.name for _, p in letters.read_letters(letters.HELDOUT)[0]}
    assert not {p.name for _, p in augment.augment(train, 1, seed=0)} & heldout


def test_names_that_are_common_words_or_skills_are_left_as_they_are(pairs):
    text, profile = pairs[0]
    grace = letter.make_profile(**{**profile.as_dict(), "name": "Grace Okafor"})
    assert augment.renamable(grace, {"grace", "with"}) is None  # "grace" is also a word of the letters
    named_skill = letter.make_profile(**{**profile.as_dict(), "skills": f"{profile.skills}, Okafor method"})
    assert augment.renamable(named_skill.__class__(**{**named_skill.as_dict(), "name": "Ada Okafor"}), set()) is None
    assert augment.renamable(letter.make_profile(**{**profile.as_dict(), "company_name": "St. Anne's"}), set()) is None


def test_renaming_keeps_case_and_never_chains():
    mapping = {"Rasmus": "Keziah", "Keziah": "Rasmus", "Greyfinch": "Plover"}
    text = "Rasmus wrote to GREYFINCH; rasmus@greyfinch.org. Keziah-Jones and Greyfinches stay."
    assert augment.rename(text, mapping) == ("Keziah wrote to PLOVER; keziah@plover.org. Keziah-Jones and "
                                             "Greyfinches stay.")


def test_training_can_mix_in_the_copies_and_none_is_the_default():
    base = DataArguments(dataset_name=str(ROOT / "data/finetome-sample.jsonl"), cover_letters="written",
                         cover_letter_fraction=1.0)
    plain, _ = load_clean(base)
    assert len(plain) == len(letters.read_letters()[0])
    doubled, _ = load_clean(DataArguments(**{**base.__dict__, "cover_letter_augment": 1}))
    assert len(plain) < len(doubled) <= 2 * len(plain)
    assert doubled[:len(plain)] == plain  # the letters as written come first
