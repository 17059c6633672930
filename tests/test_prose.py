"""Template prose: each habit is found alone and a writer's phrasing is not taken for one; across letters,
boilerplate, shared sentences and distinct-n."""

import pytest

from coverletter import letter, prose

SKILLS = ["hplc", "lab safety", "4 years of payroll", "knife skills", "BSN", "ACLS certified"]
LETTER = """Dear Dr Osei,

I am applying for the Laboratory Technician post at Calder Labs. Every week I run HPLC analyses for our stability
studies, and I keep the lab safe for the people who work beside me. Lab safety is also the part of the job I teach
new starters first.

Thank you for reading this.

Kind regards,
Ama Mensah"""


def test_a_written_letter_has_none_of_the_habits():
    assert prose.habits(LETTER, SKILLS) == {"repeated_skill": [], "possessed_skill": [], "repeated_opening": []}


@pytest.mark.parametrize("habit, change", [
    ("repeated_skill", ("Thank you", "Lab safety comes first, and lab safety is taught. Thank you")),  # 3 times
    ("possessed_skill", ("I run HPLC analyses", "I apply my HPLC")),
    ("possessed_skill", ("I keep the lab safe", "I bring my lab safety")),
    ("repeated_opening", ("Every week I run", "I am glad to run")),  # "I am" three times in five sentences
])
def test_each_habit_is_found_alone(habit, change):
    text = LETTER.replace(*change)
    if habit == "repeated_opening":
        text = text.replace("Lab safety is also", "I am sure lab safety is")
    found = prose.habits(text, SKILLS)
    assert [kind for kind, what in found.items() if what] == [habit], found


@pytest.mark.parametrize("sentence", [
    "My HPLC experience goes back to my first job.",  # owned through what follows
    "I would bring my 4 years of payroll to the team.",  # a length of time is owned
    "My knife skills are good.",  # the skill names itself as skills
    "I finished my BSN in 2014.",  # a degree is owned
    "My ACLS certified status is current.",  # so is a certificate
])
def test_what_a_writer_owns_is_not_a_possessed_skill(sentence):
    assert prose.possessed_skills(LETTER.replace("Thank you for reading this.", sentence), SKILLS) == []


def test_one_opening_fails_only_past_three_sentences_and_thirty_percent():
    three_of_ten = "Dear team,\n\n" + " ".join(["I run tests."] * 3 + [f"Word{i} is here." for i in range(7)])
    assert prose.repeated_opening(three_of_ten) is None
    three_of_nine = "Dear team,\n\n" + " ".join(["I run tests."] * 3 + [f"Word{i} is here." for i in range(6)])
    assert prose.repeated_opening(three_of_nine) == "i run"


def applicant(i: int) -> letter.Profile:
    return letter.make_profile(name=f"Person{i} Surname{i}", job_title=f"Role{i}", company_name=f"Company{i}",
                               skills=f"skill{i}", reasons="x")


def test_boilerplate_is_a_sentence_in_five_letters_for_different_applicants():
    same = "I am writing to apply for the {title} role at {company} today."
    letters = [(f"Dear team,\n\n{same.format(title=f'Role{i}', company=f'Company{i}')} My skill{i} is "
                f"something only person {i} has done in this way.\n\nBest,\nPerson{i} Surname{i}", applicant(i))
               for i in range(5)]
    share, common = prose.boilerplate(letters)
    assert share == 0.5 and common == ["i am writing to apply for the title role at company today"]
    assert prose.boilerplate(letters[:4])[0] == 0  # in four letters: not yet
    repeated = [(text, applicant(0)) for text, _ in letters]  # one applicant five times is not boilerplate
    assert prose.boilerplate(repeated)[0] == 0


def test_a_shared_sentence_counts_the_writers_own_words_not_the_names():
    def two(sentence: str) -> list:
        return [(f"Dear team,\n\n{sentence.format(t=f'Role{i}', c=f'Company{i}')}\n\nBest,\nPerson{i} Surname{i}",
                 applicant(i)) for i in range(2)]

    assert prose.shared_sentences(two("I am applying for the {t} role at {c}.")) == {}  # seven words of its own
    shared = prose.shared_sentences(two("I would be really glad to come in for a chat."))
    assert shared == {"i would be really glad to come in for a chat": {"Person0 Surname0", "Person1 Surname1"}}


def test_distinct_n_is_low_for_a_template_and_high_for_prose():
    template = ["I bring SKILL to COMPANY, and I bring SKILL to the team."] * 20  # names masked
    assert prose.distinct_n(template) < 0.1 < 0.9 < prose.distinct_n([LETTER])


def test_skills_are_told_apart_by_their_form():
    assert prose.is_action("leading a line of eight cooks")
    assert not prose.is_action("positioning and messaging")  # marketing's nouns
    assert not prose.is_action("marketing campaigns") and not prose.is_action("seafood butchery")
    assert not prose.is_action("testing")  # one word: a field, not an action


def test_a_name_joined_to_itself_is_misplaced_and_a_phrase_that_repeats_by_design_is_not():
    profile = letter.make_profile(name="Priya Raghunathan", job_title="UX Researcher", company_name="Quillstone",
                                  skills="Qualtrics, usability testing", reasons="Research.")
    assert prose.misplaced_phrases("I speak Qualtrics as well as Qualtrics.", profile) == [
        "a name twice: Qualtrics as well as Qualtrics"]
    for fine in ("Our users grew more and more patient.", "I worked in natural history and history.",
                 "I learned what a clause did and did not cover."):
        assert not prose.misplaced_phrases(fine, profile), fine


def test_a_word_in_capitals_the_profile_never_writes_so_is_misplaced():
    profile = letter.make_profile(name="Hannah Whitaker", job_title="Vet Technician", company_name="Foxglove",
                                  skills="Credentialed vet tech, HPLC checks, OSHA 30", reasons="The shelter.")
    assert prose.misplaced_phrases("I hold a VET TECH certification.\n\nBEST regards,", profile) == [
        "in capitals: VET", "in capitals: TECH", "in capitals: BEST"]
    assert not prose.misplaced_phrases("I run HPLC checks and hold OSHA 30, and HR knows it.", profile)


def test_a_word_bent_between_lower_case_and_capitals_is_misplaced_unless_the_profile_writes_it_so():
    profile = letter.make_profile(name="Min-jun Park", job_title="iOS Developer", company_name="Foxglove",
                                  skills="SwiftUI, XCTest, MLflow, KPI tracking", reasons="The app.")
    assert prose.misplaced_phrases("I hold the MecHANICAL award from the UNiversidad.", profile) == [
        "bent: MecHANICAL", "bent: UNiversidad"]
    assert not prose.misplaced_phrases("I test SwiftUI views with XCTest on iOS, log runs in MLflow, track KPIs, "
                                       "and hold a PhD. Both MLflows run.", profile)


def test_a_word_in_another_alphabet_is_misplaced_unless_the_profile_or_english_writes_it_so():
    profile = letter.make_profile(name="José Núñez", job_title="Mechanic", company_name="Málaga Motors",
                                  skills="engine repair", reasons="The cars.")
    assert prose.misplaced_phrases("I studied Mechanicalífica at the Universidad.", profile) == [
        "another alphabet: Mechanicalífica"]
    assert not prose.misplaced_phrases("José Núñez sends his résumé to Málaga Motors, whose café he knows; the "
                                       "pâtissier calls it kōrero.", profile)  # loanwords begin in their language


def test_a_hashtag_is_misplaced_and_a_language_named_with_a_sharp_is_not():
    profile = letter.make_profile(name="Hannah Whitaker", job_title="Developer", company_name="Foxglove",
                                  skills="C#, F#", reasons="The shelter.")
    assert prose.misplaced_phrases("I love animals. #Foxglove #Vet_Tech", profile) == [
        "a hashtag: #Foxglove", "a hashtag: #Vet_Tech"]
    assert not prose.misplaced_phrases("I write C# and F# every day, and I was #1 in my class.", profile)
