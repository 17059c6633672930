"""The guards: llama.cpp logits processors that keep numbers, names, ads and claims the profile lacks off the
page."""

import functools

import numpy as np

from coverletter import guards, letter, rubric

from conftest import as_text, kept_after, left_after


def test_the_fact_guard_lets_only_the_profiles_numbers_and_no_absent_ad_onto_the_page(llm):
    profile = letter.make_profile(name="Maria Lopez", job_title="Analyst", company_name="Acme",
                                  skills="5 years of SQL, budgets of 1,250 pounds", reasons="Data.")

    def allowed(text: str, guarded: letter.Profile = profile) -> set[str]:
        return as_text(llm, left_after(llm, guards.FactGuard, guarded, text))

    def token(text: str) -> str:
        return llm.detokenize(llm.tokenize(text.encode(), add_bos=False)[-1:]).decode()

    digits = {str(d) for d in range(10)}
    assert allowed("I have ") & digits == {"5", "1"}  # the start of 5 and of 1250
    contact = letter.make_profile(**{**profile.as_dict(), "resume": "Maria Lopez | +44 7700 900418 | ml92@mail.com"})
    assert allowed("I have ", contact) & digits == {"5", "1"}  # a phone number and an address state no number
    assert allowed("budgets of 1,2") & digits == {"5"}  # on toward 1,250
    assert allowed("I have 5") & digits == set()  # 5 is whole: no 50, no 5.5
    assert token(" years") in allowed("I have 5") and token(".") in allowed("I have 5")  # and may end there
    assert token(" months") not in allowed("I have 5") and token(" weeks") not in allowed("I have 5")  # in its unit
    since = letter.make_profile(**{**profile.as_dict(), "resume": "Analyst, Kestrel Systems, 2017–present"})
    unfinished = allowed("I have worked there since 2", since)  # toward 2017 only: never "2 years" or "20 years"
    assert unfinished and {t.strip()[:1] for t in unfinished} <= {"0"} and token(" years") not in unfinished
    assert token(" years") not in allowed("I have worked there for 20", since)
    assert token(",") in allowed("I have worked there since 2017", since)  # whole: the sentence goes on
    assert token(" years") not in allowed("I have worked there since 2017", since)  # a year, not a length
    assert not {"-", " –", "–", " -"} & allowed("I have worked there since 2017", since)  # no range: "2017-2017"
    assert "-" in allowed("I have worked there for 5", since)  # after another number a dash may follow ("5-star")
    for lead in ("I bring ", "I have worked for ", "I have "):  # a year where a skill or a length goes
        assert allowed(lead, since) & digits == {"5", "1"}, lead
    assert "2" in allowed("I have worked there since ", since)  # a year where a year goes
    ages = letter.make_profile(**{**profile.as_dict(), "skills": "5 years of SQL, books for ages 0-12"})
    assert token(" years") not in allowed("Since 12", ages)  # a sentence's opening clause is the applicant's claim
    assert token(" years") in allowed("Since 5", ages) and token(" years") in allowed("Books for ages 0-12", ages)
    graduated = letter.make_profile(**{**profile.as_dict(), "resume": "Analyst, Kestrel Systems, 2017–present\n"
                                                                      "BSc, University of Leeds, 2014"})
    assert allowed("Since 201", graduated) & digits == {"7"}  # the job began in 2017; 2014 is the degree's year
    assert allowed("I have run SQL since ", graduated) & digits == {"2"}  # a year: not 5 (years) nor 1,250
    assert " " not in allowed("Since") and " " not in allowed("I have run SQL since")  # no year to begin: no lone
    assert " " in allowed("Since", graduated) and " I" in allowed("Since")  # space that only a number could follow
    assert allowed("I have held a BSc since 201", graduated) & digits == {"4", "7"}  # and the line it speaks of
    assert allowed("I was an analyst from 2017 until 201", graduated) & digits == {"4"}  # not 2017 again
    assert allowed("I was an analyst from 2014 to 201", graduated) & digits == {"7"}
    assert token(" five") in allowed("I have") and token(" twelve") not in allowed("I have")
    assert allowed("I have ") <= digits  # a lone space begins a number: nothing else goes on it
    for start in ("I know SQL.", "I know SQL! ", "I know SQL.\n\n"):  # no sentence or line begins with a numeral
        assert not allowed(start) & digits and " " not in allowed(start), start
    thin = letter.make_profile(**{**profile.as_dict(), "skills": "SQL, budgeting"})
    assert " " in allowed("I have") and " " not in allowed("I have", thin)  # no number may follow: no lead-in
    assert allowed("I have ", thin) and token(" years") not in allowed("I have ", thin)  # no double space
    assert token(" one") in allowed("I have")  # "one of", "no one": a pronoun as often as a number
    assert "½" not in allowed("I have") and "½" in allowed("I have", letter.make_profile(
        **{**profile.as_dict(), "skills": "½ marathon, SQL"}))  # a fraction sign is a number too
    accented = {t for t in allowed("I am") if any(ch.isalpha() and not ch.isascii() for ch in t)}
    assert any("é" in t for t in accented) and not any("í" in t for t in accented)  # "résumé"; never "ífica"
    assert any("í" in t for t in allowed("I am", letter.make_profile(**{**profile.as_dict(), "name": "María Lopez"})))
    for word in (" advertisement", " posting"):
        assert token(word) not in allowed("As your") and token(word) in allowed(
            "As your", letter.make_profile(**{**profile.as_dict(), "job_description": "We need SQL."}))
    for word in (" certification", " certified", " diploma", " University", " graduated", " licensed"):
        assert token(word) not in allowed("I am"), word  # a credential the profile never names
    certified = letter.make_profile(**{**profile.as_dict(), "skills": "SQL, Tableau certification"})
    assert token(" certified") in allowed("I am", certified) and token(" diploma") not in allowed("I am", certified)
    assert token(" mastered") in allowed("I have") or token(" master") in allowed("I have")  # a verb too
    assert token("see") not in allowed("My skills (") and token("see") in allowed("I")  # the prompt's own words


def test_a_number_only_the_ad_states_is_never_the_applicants_claim(llm):
    profile = letter.make_profile(name="Maria Lopez", job_title="Front Desk Lead", company_name="Acme Hotels",
                                  skills="5 years on a front desk, leading 4 receptionists", reasons="Guests.",
                                  job_description="You will lead a team of 8. At least 3 years in hospitality.")
    allowed = functools.partial(left_after, llm, guards.FactGuard, profile)

    def digits_after(text: str) -> set[str]:
        return as_text(llm, allowed(text)) & set("0123456789")

    assert digits_after("I have led a team of ") == {"5", "4"}  # the applicant's own numbers only
    assert digits_after("Today I lead ") == {"5", "4"}
    for about_the_ad in ("You are looking for someone to lead a team of ", "Your ad asks for ",
                         "I see that you want ", "I led 4 receptionists, and the role asks for "):
        assert digits_after(about_the_ad) == {"5", "4", "8", "3"}, about_the_ad

    def words_after(text: str) -> set[str]:
        words = {" three", " eight", " five", " four", " twelve"}
        return {w for w in words if allowed(text)[llm.tokenize(w.encode(), add_bos=False)[0]]}

    assert words_after("I have") == {" five", " four"}  # in words too: "I have three years" only if the applicant has
    assert words_after("Your ad asks for") == {" three", " eight", " five", " four"}  # never twelve: no one states it

    def years_after(text: str) -> bool:
        return bool(allowed(text)[llm.tokenize(b" years", add_bos=False)[0]])

    assert years_after("I have 5") and years_after("I have five")  # 5 years on a front desk
    assert not years_after("I have led 4") and not years_after("I bring four")  # 4 receptionists, not 4 years
    assert years_after("You ask for 3") and years_after("The hotel is 4")  # the ad's years; no claim


def test_the_claim_guard_keeps_the_ads_requirements_out_of_the_applicants_claims(llm):
    profile = letter.make_profile(
        name="Ines Duarte", job_title="Front Office Supervisor", company_name="Harbour Hotel",
        skills="front desk, guest check-in, night audits", reasons="Guests.",
        job_description="You will supervise hospitality staff. Advanced Excel and Salesforce.")
    scores = np.zeros(llm.n_vocab(), dtype=np.single)
    claim = "Dear team,\n\nIn my current job I have run"

    def allowed(text: str, given: np.ndarray = scores, guarded: letter.Profile = profile) -> set[str]:
        return as_text(llm, left_after(llm, guards.ClaimGuard, guarded, text, given))

    after_claim = allowed(claim)
    for word in (" hospitality", " Hospitality", " staff", " Excel"):  # only the ad states these
        assert word not in after_claim, word
    assert {" front", " guest", " night", " staffing", " excellent", " the"} <= after_claim  # theirs, or other words
    # the name guard would let " Sales" grow only into "Salesforce": out from its first token, unlike " Har" (Harbour)
    assert " Sales" not in after_claim and {" Har", " Front"} <= after_claim
    assert "force" not in allowed(claim + " Sales")
    assert "force" in allowed("Dear team,\n\nYou ask for Sales") and " Sales" in allowed("Dear team,\n\nYou ask for")
    assert {" hospitality", " staff", " Excel"} <= allowed("Dear team,\n\nYou ask for")  # about the ad: no claim
    assert " hospitality" in allowed("Dear team,\n\nThe hotel has")  # no first person: no claim
    assert " hospitality" not in allowed("Dear team,\n\nWorking with")  # no subject yet: the applicant's to come
    thin = letter.make_profile(**{**profile.as_dict(), "job_description": ""})
    assert " hospitality" in allowed(claim, guarded=thin)  # no ad: nothing to borrow
    begun = [t for t in allowed(claim + " hosp") if t[:1].isalpha()]  # the word being written, token by token
    assert begun and not [t for t in begun if ("hosp" + t.lower()).startswith("hospita")]
    spelled = (("hosp" + llm.detokenize([t]).decode(errors="ignore")) for t in range(llm.n_vocab()))
    assert any(word.startswith("hospita") for word in spelled)  # the model could have written it
    surgical = letter.make_profile(**{**profile.as_dict(), "job_description": "Post-surgical rehabilitation."})
    assert not {"sur", "surg", "surgical"} & allowed(claim + " post-", guarded=surgical)  # a hyphenated word too
    assert "surgical" in allowed("Dear team,\n\nYou ask for post-", guarded=surgical)
    only_borrowed = np.full(llm.n_vocab(), -np.inf, dtype=np.single)
    only_borrowed[llm.tokenize(b" hospitality", add_bos=False)[0]] = 0.0
    assert allowed(claim, only_borrowed)  # never every token: what it cannot keep off, the rubric counts


def test_the_claim_guard_keeps_a_claim_to_work_at_the_company_already_off_the_page(llm):
    profile = letter.make_profile(name="Ines Ferraz", job_title="Fundraising Officer", skills="Grant writing",
                                  company_name="Greenhollow Community Trust", reasons="Your river clean-ups.")

    def allowed(text: str, guarded: letter.Profile = profile) -> set[str]:
        return kept_after(llm, guards.ClaimGuard, guarded, text)

    assert [llm.detokenize([t]) for t in llm.tokenize(b" Greenhollow", add_bos=False)] == [b" Green", b"h", b"ollow"]
    for claim in ("I hold board reporting duties at", "I am working for the", "I report at"):
        assert " Green" not in allowed(claim), claim  # " Green" could only grow into "Greenhollow"
    assert " Green" not in allowed("Since 3 years baking at")  # the sentence's subject, to come, is the applicant
    for free in ("I would love to work at", "I want to work at", "I hope to apply at", "I have", "You work at",
                 "At", "Since my visit at"):
        assert " Green" in allowed(free), free  # a wish, an application, no place, not the applicant
    green = letter.make_profile(**{**profile.as_dict(), "skills": "Grant writing, green chemistry outreach"})
    assert " Green" in allowed("I report at", green)  # "Green" may still become the applicant's "green chemistry"
    assert "h" not in allowed("I report at Green", green) and "h" in allowed("I would love to work at Green", green)
    placed = letter.make_profile(**{**profile.as_dict(), "resume": "Volunteer, Greenhollow Community Trust, 2021-2023"})
    assert " Green" in allowed("I report at", placed)  # the résumé places them there already
    assert rubric.claimed_employer("I report at Greenhollow every week.", profile)  # the rubric reads it so too
    assert not rubric.claimed_employer("I report at Greenhollow every week.", placed)
    assert " greenh" not in allowed("I report at") and "h" not in allowed("I report at green")  # in lower case too
    assert " green" in allowed("I report at", green) and " green" in allowed("I would love to work at")
    assert " team" not in allowed("I have worked with your") and " you" not in allowed("I have already worked with")
    assert " team" in allowed("I would love to work with your") and " you" in allowed("I would love to work with")
    assert " team" in allowed("I have worked with your", placed)  # theirs to say


def test_the_company_guard_has_the_letter_name_the_company_whole_once(llm):
    profile = letter.make_profile(name="Ana Silva", job_title="Night Supervisor", skills="Forklift safety",
                                  company_name="Cobaltline Distribution", reasons="Cold storage.")

    def allowed(text: str, guarded: letter.Profile = profile) -> set[str]:
        return kept_after(llm, guards.CompanyGuard, guarded, text)

    kept = allowed("I admire Cobaltline")
    assert " Distribution" in kept and "'s" not in kept and " is" not in kept  # toward the whole name only
    rest = {t.strip().lower() for t in allowed("I admire Cobaltline Dis")}
    assert rest and all("tribution".startswith(t) for t in rest)  # the word being written goes on to the name
    assert "Tr" not in allowed("I admire Cobaltline Dis") and " distribution" not in kept  # as the profile spells it
    whole = "Cobaltline Distribution moves fast. I admire Cobaltline"
    assert {" is", "'s"} <= allowed(whole)  # named whole once: the short name is free
    assert " is" in allowed("I admire Cob") and " is" in allowed("I admire cobaltline")  # not begun as its name
    kingsmere = letter.make_profile(**{**profile.as_dict(), "company_name": "University of Kingsmere"})
    assert " is" in allowed("I admire University", kingsmere)  # a common first word: left alone


def test_the_name_guard_keeps_names_the_profile_lacks_off_the_page(llm):
    profile = letter.make_profile(name="Dmitri Volkov", job_title="Intern", company_name="Tessellate Energy",
                                  skills="Git, Moderated usability testing, fine-tuning models", reasons="Climate.")
    allowed = functools.partial(left_after, llm, guards.NameGuard, profile)

    def ids(text: str) -> list[int]:
        return llm.tokenize(text.encode(), add_bos=False)

    body = "Dear team,\n\nI would rely on my"
    assert allowed(body)[ids(" Git")].all() and allowed(body)[ids(" Tuning")[0]]  # profile words, any case
    assert not allowed(body + " Git")[ids("Hub")].any()  # "Git" may not grow into "GitHub"
    assert allowed(body + " Git")[ids(",")].all()  # but ends where it likes
    moder = allowed(body + " Moder")
    assert not moder[ids("ed")].any() and not moder[ids(",")].any()  # "Moder" is no word: "Modered" is out ...
    assert moder[ids("ated")].all()  # ... and it goes on toward "Moderated"
    assert not allowed(body)[ids(" Kafka")[0]]  # mid-sentence: no name the profile lacks
    assert allowed("Dear team,\n\nThanks.")[ids(" Kafka")[0]]  # a sentence's first word is free
    assert not allowed("Dear team,\n\nThanks.")[ids(" AWS")[0]]  # an acronym is a name even first in a sentence
    assert not allowed(body + " (")[ids("CSS")[0]]  # or after "(": "(ICSS)"
    assert allowed("Dear team,\n\nThanks.")[ids(" GIT")[0]]  # " G": one capital may begin any word
    assert allowed("Dear")[ids(" Kafka")[0]]  # and so is the greeting line
    assert allowed(body)[ids(" Hiring")].all()  # words any letter may capitalize


def test_the_name_guard_lets_only_the_profiles_own_words_in_capitals_onto_the_page(llm):
    profile = letter.make_profile(name="Hannah Whitaker", job_title="Vet Technician", company_name="Foxglove",
                                  skills="Credentialed vet tech, HPLC checks, recruitment", reasons="The shelter.")
    allowed = functools.partial(left_after, llm, guards.NameGuard, profile)

    def first(text: str) -> int:
        return llm.tokenize(text.encode(), add_bos=False)[0]

    body = "Dear team,\n\nI run"
    assert allowed(body)[first(" Rec")] and allowed(f"{body} H")[first("PL")] and allowed(f"{body} HPL")[first("C")]
    assert not allowed(body)[first(" REC")]  # " REC" + "RU" + "IT" + "MENT": the profile's word, shouted
    assert not allowed(f"{body} V")[first("ET")] and not allowed(f"{body} RE")[first("CR")]  # grown from a capital
    assert not allowed("Dear team,\n\nThanks.\n\nB")[first("EST")]  # "BEST regards"
    assert allowed(f"{body} I")[first("T")] and allowed(body)[first(" HR")]  # "IT" and "HR" any letter may write
    assert not allowed(f"{body} UN")[first("ivers")] and allowed(f"{body} UN")[first("s")]  # not bent: "UNivers"
    kept = allowed(f"{body} RE")  # the profile's "recruitment", begun in capitals: it ends, neither shouted nor bent
    assert not kept[first("CR")] and not kept[first("cru")] and kept[first(" and")]
    assert allowed(f"{body} HP")[first("LC")] and allowed(f"{body} Re")[first("cru")]
    assert not allowed(body)[first(" UN")] and not allowed(f"{body} K")[first("I")]  # "UN" begins no "Universidad"
    assert not allowed(f"{body} Mec")[first("H")] and not allowed(f"{body} MecH")[first("AN")]  # "MecHANICAL": bent
    assert not allowed(f"{body} R")[first("Ec")] and allowed(f"{body} R")[first("ec")]  # "REcruitment" is bent too
    ml = letter.make_profile(**{**profile.as_dict(), "skills": "MLflow, SwiftUI"})
    as_written = functools.partial(left_after, llm, guards.NameGuard, ml)  # "ML" begins the profile's "MLflow"
    assert as_written(body)[first(" ML")] and as_written(f"{body} ML")[first("flow")]
    assert as_written(f"{body} Swift")[first("UI")]


def test_without_an_ad_the_guard_lets_no_sentence_cite_one(llm):
    no_ad = letter.make_profile(name="James O'Connor", job_title="Nurse", company_name="Acme", skills="BSN",
                                reasons="Care.")
    with_ad = letter.make_profile(**{**no_ad.as_dict(), "job_description": "We need a BSN."})

    def allowed(text: str, profile: letter.Profile) -> np.ndarray:
        return left_after(llm, guards.FactGuard, profile, text)

    ad, description = (llm.tokenize(word, add_bos=False)[0] for word in (b" ad", b" description"))
    assert not allowed("The job", no_ad)[[ad, description]].any()  # "The job ad mentions BSN": out
    assert allowed("The job", with_ad)[[ad, description]].all()
    assert allowed("I would like to", no_ad)[ad]  # elsewhere " ad" starts words and names ("Adaeze")
