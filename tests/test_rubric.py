"""The rubric: each rule fails alone on a hand-written letter; invented and borrowed facts are found by kind, and
what the profile says in other words, or what the ad asks, is not taken for one."""

import pytest

from coverletter import facts, letter, prose, rubric

AD = ("Quillstone Analytics is hiring a UX Researcher to plan accessibility audits and present findings to product "
      "teams. Requirements: accessibility research and remote interviewing.")
PROFILE = letter.make_profile(name="Aiko Tanaka", job_title="UX Researcher", company_name="Quillstone Analytics",
                              skills="4 years of usability testing, survey design, Figma, leading diary studies with "
                                     "older adults",
                              reasons="I admire Quillstone's research culture and want to work where decisions start "
                                      "from evidence.", job_description=AD, length="short")
AD_LINE = ("Your advertisement asks for accessibility research, and my diary studies with older adults have "
           "prepared me for it.")
GOOD = f"""Dear Hiring Manager,

I am writing to apply for the UX Researcher position at Quillstone Analytics. I bring four years of usability
testing, and survey design is one of my strengths. I am also used to leading diary studies with older adults, and I
work in Figma.

{AD_LINE} I would be glad to present findings to product teams at Quillstone Analytics.

I admire Quillstone's research culture, and I want to work where decisions start from evidence. Usability
testing has taught me to let the evidence lead, and it would help me plan accessibility audits with your team
from the first week.

Thank you for considering my application.

Sincerely,
Aiko Tanaka"""


def test_a_good_letter_passes_every_rule():
    assert letter.word_range(PROFILE) == (120, 200) and 120 <= letter.word_count(GOOD) <= 200
    assert rubric.score_letter(GOOD, PROFILE) == {rule: True for rule in rubric.RULES}


BAD = {
    "name": GOOD.replace("Aiko Tanaka", "A. T."),
    "company": GOOD.replace("Quillstone Analytics", "your company"),
    "job_title": GOOD.replace("UX Researcher", "research"),
    "skill": GOOD.replace("usability\ntesting", "studies").replace("usability\ntesting", "studies")
                 .replace("survey design", "planning").replace("Figma", "a design tool")
                 .replace("leading diary studies with older adults", "running qualitative studies of many kinds")
                 .replace("Usability\ntesting has", "Research has"),
    "no_placeholder": GOOD.replace("Dear Hiring Manager", "Dear [Hiring Manager Name]"),
    "length": GOOD.replace("Thank you for considering", "Product teams act on findings" + ", and they act" * 40
                           + ". Thank you for considering"),  # one long sentence: no repeats
    "greeting": GOOD.replace("Dear Hiring Manager,\n\n", ""),
    "sign_off": GOOD.replace("Sincerely,\n", ""),
    "no_repeats": GOOD.replace("Thank you for considering my application.",
                               "Thank you for considering my application. Thank you for considering my application."),
    "faithful": GOOD.replace("four years", "six years"),
    "uses_job_ad": GOOD.replace(AD_LINE, "I have followed Quillstone's research culture for some time, and it is "
                                         "the reason I am writing.").replace(
        " I would be glad to present findings to product teams at Quillstone Analytics.",
        " I would be glad to bring usability testing to Quillstone Analytics.").replace(
        "help me plan accessibility audits with your team", "help me settle in with your team"),
    "grammatical": GOOD.replace("I am also used to leading diary studies", "I also use leading diary studies"),
    "skills_not_repeated": GOOD.replace("Thank you for considering", "Figma is where I sketch and Figma is where "
                                        "I test. Thank you for considering"),
    "skills_not_possessed": GOOD.replace("I\nwork in Figma", "I\nrely on my Figma"),
    "openings_varied": GOOD.replace("Usability\ntesting has taught me", "I find that usability testing has taught me")
                           .replace("I admire Quillstone's research culture", "I find Quillstone's research culture "
                                    "admirable").replace("Thank you for", "I find the work rewarding. Thank you for"),
}


@pytest.mark.parametrize("rule", rubric.RULES)
def test_each_rule_can_fail_alone(rule):
    scores = rubric.score_letter(BAD[rule], PROFILE)
    assert scores[rule] is False
    also = ["sign_off"] if rule == "name" else []  # the sign-off must carry the name too
    assert [r for r, ok in scores.items() if not ok] == [rule, *also]


def test_a_skill_is_named_as_typed_or_by_all_its_words_in_one_sentence():
    """A writer turns "leading diary studies with older adults" into what they do; its words spread over the letter
    name nothing."""
    profile = letter.make_profile(**{**PROFILE.as_dict(), "skills": "leading diary studies with older adults"})
    assert rubric.names_a_skill("I lead diary studies with older adults.", profile)
    assert rubric.names_a_skill("With older adults, I lead diary studies.", profile)
    assert not rubric.names_a_skill("I lead diary studies. Older adults trust me.", profile)
    assert not rubric.names_a_skill("I lead studies with older adults.", profile)


def test_with_the_skills_left_to_a_resume_its_items_are_the_skills():
    resume = "Aiko Tanaka\nKey skills\n- survey design\n• Figma\nUX Researcher, Quillstone Analytics"
    profile = letter.make_profile(**{**PROFILE.as_dict(), "skills": "", "resume": resume})
    assert facts.profile_skills(profile) == ["survey design", "figma"]  # not the name, heading, title, company
    assert rubric.score_letter(GOOD, profile)["skill"]
    vague = GOOD.replace("survey design", "planning").replace("Figma", "a design tool")
    assert not rubric.score_letter(vague, profile)["skill"]
    one_line = letter.make_profile(**{**profile.as_dict(), "resume": "Aiko Tanaka\nSkills: survey design, Figma"})
    assert facts.profile_skills(one_line) == ["survey design", "figma"]
    copied = GOOD.replace("in Figma.", f"in {letter.SKILLS_IN_RESUME}.")
    assert rubric.score_letter(GOOD, profile)["no_placeholder"]
    assert not rubric.score_letter(copied, profile)["no_placeholder"]


def test_a_full_resumes_jobs_dates_and_contact_details_are_facts_not_skills():
    resume = ("Aiko Tanaka\naiko@example.com · +44 7700 900504\n\n"
              "Key skills\n- 4 years of usability testing\n- survey design\n- Figma\n\n"
              "Experience\nResearch Lead | Brightwater Group | Sep 2019 – Present\n\nEducation\n"
              "BSc (Hons), University of Leeds, 2016")
    profile = letter.make_profile(**{**PROFILE.as_dict(), "skills": "", "resume": resume})
    assert facts.profile_skills(profile) == ["4 years of usability testing", "survey design", "figma"]
    assert facts.resume_role_parts(resume) == ["research lead", "brightwater group", "bsc", "hons",
                                                "university of leeds"]
    said = GOOD.replace("Thank you for considering my application.",
                        "I have led research at Brightwater Group since 2019, after a BSc at the University of Leeds.")
    assert rubric.judge(said, profile)["rules"]["grammatical"] and rubric.judge(said, profile)["rules"]["faithful"]
    for copied in ("My experience includes Sep 2019 – Present.", "I have 4 years of Brightwater Group."):
        text = GOOD.replace("Thank you for considering my application.", copied)
        assert not rubric.score_letter(text, profile)["grammatical"], copied


def test_too_short_fails_length():
    assert not rubric.score_letter("Dear team,\n\nI want the UX Researcher job.\n\nSincerely,\nAiko Tanaka",
                                   PROFILE)["length"]


# --------------------------------------------------------------------------- faithful

NO_AD = letter.make_profile(**{**PROFILE.as_dict(), "job_description": ""})
AD_OF_8 = letter.make_profile(**{**PROFILE.as_dict(), "job_description": AD + " You will lead a team of 8."})
DATED = letter.make_profile(**{**PROFILE.as_dict(),
                                "resume": "Aiko Tanaka\nResearcher | Brightwater Group | 2019 – Present"})
GRADUATED = letter.make_profile(**{**DATED.as_dict(), "resume": DATED.resume + "\nBSc, University of Leeds, 2014"})
CONTACTED = letter.make_profile(**{**PROFILE.as_dict(),
                                   "resume": "Aiko Tanaka | +1 555 0114 1575 | (510) 555-0148 | aiko92@mail.com"})
COUNTED = letter.make_profile(**{**PROFILE.as_dict(), "skills": PROFILE.skills + ", 40 diary studies run"})


@pytest.mark.parametrize("kind, sentence, profile", [
    ("number", "I have run 40 studies.", PROFILE),
    ("number", "I have twelve years of usability testing.", PROFILE),
    ("number", "I have ½ year of usability testing.", PROFILE),
    ("number", "I ran a one-day study for twenty-one teams.", PROFILE),  # "one" counts, and 21 is no 1
    ("number", "In 2019 I moved into research.", PROFILE),
    ("number", "I have spent 555 days on diary studies.", CONTACTED),  # a phone number states no number
    ("number", "I ran 92 diary studies.", CONTACTED),  # nor does an e-mail address
    ("credential", "My master's degree in psychology helps.", PROFILE),
    ("credential", "I am a certified research specialist.", PROFILE),
    ("name", "At Google I ran usability testing.", PROFILE),
    ("credential", "I hold a diploma in design.", PROFILE),
    ("name", "I studied in Leeds.", PROFILE),
    ("name", "I plan every study to the usability standards (UXQB).", PROFILE),  # an acronym is a name anywhere
    ("name", "UXQB guides every study I plan.", PROFILE),
    ("ad_cited", "Your advertisement asks for survey design.", NO_AD),
    ("ad_cited", "As the job posting says, Figma matters.", NO_AD),
    ("misspelled", "I would be proud to join Quilstone Analytics.", PROFILE),
    ("misspelled", "Aiko Tanka would be proud to join.", PROFILE),
    ("borrowed", "I have done remote interviewing for years.", PROFILE),  # only the ad names it
    ("borrowed", "At my last job I led a team of 8 researchers.", AD_OF_8),  # the ad's number, not the applicant's
    ("year_as_skill", "I bring 2019 to every study.", DATED),
    ("year_as_skill", "I ran diary studies for 2019.", DATED),
    ("year_as_skill", "I have spent 2019 running diary studies.", DATED),
    ("year_as_skill", "I have 2019 as my strongest year of diary studies.", DATED),
    ("moved_year", "Since 2014 I have run diary studies at Brightwater Group.", GRADUATED),  # the BSc's year
    ("span", "I was a researcher at Brightwater Group from 2019 until 2019.", DATED),  # "2019 – Present"
    ("span", "I ran diary studies between 2019 and 2019.", DATED),
    ("length_of_time", "I bring 40 years of usability research.", COUNTED),  # 40 studies, not 40 years
    ("length_of_time", "I have a forty-year record in research.", COUNTED),
    ("length_of_time", "I have spent 40 weeks on research.", COUNTED),
    ("length_of_time", "I have 4 months of usability testing.", PROFILE),  # 4 years, in another unit
    ("employer", "I have run usability testing at Quillstone for a year.", PROFILE),  # the company applied to
    ("employer", "Today I work for Quillstone Analytics as a researcher.", PROFILE),
    ("employer", "After 4 years of testing at Quillstone, I run diary studies.", PROFILE),  # no subject of its own
    ("employer", "I have worked with your team for years.", PROFILE),
])
def test_each_kind_of_invented_fact_is_found_alone(kind, sentence, profile):
    text = GOOD.replace("Thank you for considering my application.", sentence)
    found = rubric.invented_facts(text, profile)
    assert found[kind] and [k for k, v in found.items() if v] == [kind], found
    assert rubric.score_letter(text, profile)["faithful"] is False


def test_a_span_is_invented_only_where_it_ends_in_the_year_it_began():
    spans = ("I studied from 2014 until 2019.", "I was at Brightwater Group from 2019 to now.",
             "In 2019, and 2020 too, I ran diary studies.")
    assert not [s for s in spans if rubric.invented_facts(GOOD + "\n" + s, GRADUATED)["span"]]
    assert rubric.invented_facts(GOOD + "\nI ran diary studies from 2019 to 2019.", GRADUATED)["span"]


def test_since_takes_a_year_in_which_the_profile_says_something_began():
    resume = ("Researcher | Brightwater Group | Mar 2019 to now\nAssistant | Fenwick Labs | 2016 to 2019\n"
              "Certified Usability Analyst, 2018\nBSc, University of Leeds, 2014")
    profile = letter.make_profile(**{**PROFILE.as_dict(), "resume": resume})
    begun = ("Since 2019 I have run diary studies.", "I have run studies since 2016.",  # "2019 to now", "2016 to"
             "I have been a Certified Usability Analyst since 2018.")  # the year of the line it speaks of
    assert not [s for s in begun if rubric.moved_years(GOOD + "\n" + s, profile)]
    moved = ("Since 2014 I have run diary studies.", "I have been a researcher at Brightwater since 2018.")
    assert [s for s in moved if rubric.moved_years(GOOD + "\n" + s, profile)] == list(moved)


def test_work_at_the_company_applied_to_is_a_claim_only_where_the_applicant_never_placed_themselves_there():
    claim = GOOD.replace("Thank you for considering my application.", "I run weekend studies at Quillstone.")
    assert rubric.claimed_employer(claim, PROFILE) == ["I run weekend studies at Quillstone."]
    placed = {"reasons": "Quillstone is where I already run weekend studies.",
              "resume": "Aiko Tanaka\nResearch Assistant | Quillstone Analytics | 2023 – Present"}
    for field, text in placed.items():
        assert not rubric.claimed_employer(claim, letter.make_profile(**{**PROFILE.as_dict(), field: text})), field
    for reasons in ("Quillstone is opening in the town where I grew up.", "Quillstone's studies are where I'd learn."):
        assert rubric.claimed_employer(claim, letter.make_profile(**{**PROFILE.as_dict(), "reasons": reasons}))
    wishes = ("I hope to run studies at Quillstone.", "I am applying for the researcher post at Quillstone.",
              "At Quillstone, I would run diary studies.", "The studies at Quillstone are careful.",
              "I would love to have worked with your team.", "Your team at Quillstone runs diary studies, I know.",
              "Survey design is taken seriously at Quillstone, and I run diary studies.")  # a subject of its own
    assert not [w for w in wishes if rubric.claimed_employer(GOOD + "\n" + w, PROFILE)]
    assert rubric.company_keys("The Greenhollow Community Trust") == ["Greenhollow Community Trust", "Greenhollow"]
    assert rubric.company_keys("University of Kingsmere") == ["University of Kingsmere"]  # not "the University"


def test_a_claim_that_takes_up_the_ads_words_the_applicant_never_wrote_is_borrowed():
    ad = "You will plan. Remote interviewing. Dovetail. Survey design."
    for sentence, borrowed in (("I do remote interviewing.", True), ("I use Dovetail.", True),
                               ("I would like to plan.", False)):
        text = GOOD.replace("Thank you for considering my application.", sentence)
        found = rubric.invented_facts(text, letter.make_profile(**{**PROFILE.as_dict(), "job_description": ad}))
        assert bool(found["borrowed"]) == borrowed, sentence


def test_a_misspelled_company_and_an_invented_university_are_found():
    corrib = letter.make_profile(name="Sean Burke", job_title="Engineer", company_name="Corrib Power Services",
                                 skills="turbines", reasons="Wind power.")
    found = rubric.invented_facts("Dear team,\n\nI want to join Corrab Power Services, as I studied at the University "
                                  "of Leeds.\n\nBest,\nSean Burke", corrib)
    assert found["misspelled"] == ["Corrab (corrib)"] and found["credential"] == ["University"]
    assert found["name"] == ["Leeds"]


@pytest.mark.parametrize("sentence, extra_skill", [
    ("For four years I have done usability testing.", None),
    ("My degree gave me the basics.", "BSc in Psychology"),
    ("My certification is current.", "Certified paralegal"),
    ("One of my strengths is listening, and no one rushes me.", None),
    ("Your advertisement asks for accessibility research.", None),  # there is an ad
    ("Quillstone Analytics' team and Quillstone's culture appeal to me.", None),
    ("Logistical work suits me.", "logistics"),
    ("I would rely on my Tuning of models.", "fine-tuning"),  # a capitalized part of a hyphenated profile word
    ("Accessibility is one reason I apply.", None),
    ("My survey design is a reliable one, and I keep every note in one place.", None),  # "one": no count here
    ("Quillstone Analytics' Positioning and Messaging appeal to me.", "positioning and messaging"),
    ("Your ad asks for remote interviewing; I have not done it yet.", None),  # named as the ad's, not claimed
    ("I would be glad to plan accessibility audits.", None),  # a wish, not a claim
    ("The team you describe would plan accessibility audits, which I would enjoy.", None),
])
def test_what_the_profile_says_in_other_words_is_not_an_invention(sentence, extra_skill):
    skills = PROFILE.skills + (f", {extra_skill}" if extra_skill else "")
    profile = letter.make_profile(**{**PROFILE.as_dict(), "skills": skills})
    text = GOOD.replace("Thank you for considering my application.", sentence)
    assert not any(rubric.invented_facts(text, profile).values()), rubric.invented_facts(text, profile)


# --------------------------------------------------------------------------- the ad and the grammar


@pytest.mark.parametrize("sentence", [
    "I use leading diary studies with older adults every week.",
    "My leading diary studies with older adults taught me patience.",
    "I can survey design for any team.",
    "I am applying because of i admire quillstone's research culture.",
    "I would be a excellent fit.",
    "I bring an usability lens.",
    "I have an habit of testing early.",
    "Since 4 years in usability testing, I have run diary studies.",  # "since" takes a year
    "I work in Figma as well as Figma.",
])
def test_a_phrase_put_where_it_does_not_fit_is_found(sentence):
    text = GOOD.replace("Thank you for considering my application.", sentence)
    assert prose.misplaced_phrases(text, PROFILE) and not rubric.score_letter(text, PROFILE)["grammatical"]


def test_a_and_an_go_by_the_next_words_sound():
    fine = "I hold an Hons degree, a university place, an hour a day, an SQL habit and a UX eye."
    with_sql = letter.make_profile(**{**PROFILE.as_dict(), "skills": PROFILE.skills + ", SQL"})  # capitals it writes
    assert not prose.misplaced_phrases(GOOD.replace("Thank you for considering my application.", fine), with_sql)
