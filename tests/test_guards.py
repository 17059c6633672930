"""The guards: llama.cpp logits processors that keep numbers, names and ads the profile lacks off the page, hold
the letter to its length, and sign it with the applicant's name; and the rules of the length they apply."""

import numpy as np
import pytest

from coverletter import guards, letter, vocabulary

from conftest import rich_profile

PROMPT = b"<|im_start|>user\nWrite a letter.<|im_end|>\n<|im_start|>assistant\n"


def guard(kind, llm, profile: letter.Profile):
    """One guard with a reader of its own, as `guards.processors` gives each letter's guards one to share."""
    return kind(llm, profile, guards.AnswerReader(llm))


def after(llm, processor, text: bytes, scores: np.ndarray) -> np.ndarray:
    """The scores the processor leaves for the token after `text`, written as the letter's start."""
    prompt = llm.tokenize(PROMPT, special=True)
    processor(prompt, scores.copy())  # the first call sees the prompt alone
    return processor(prompt + llm.tokenize(text, add_bos=False), scores.copy())


def test_the_fact_guard_lets_only_the_profiles_numbers_and_no_absent_ad_onto_the_page(llm):
    profile = letter.make_profile(name="Maria Lopez", job_title="Analyst", company_name="Acme",
                                  skills="5 years of SQL, budgets of 1,250 pounds", reasons="Data.")
    scores = np.zeros(llm.n_vocab(), dtype=np.single)

    def allowed(text: str, guarded: letter.Profile = profile) -> set[str]:
        left = after(llm, guard(guards.FactGuard, llm, guarded), text.encode(), scores)
        return {llm.detokenize([t]).decode(errors="ignore") for t in np.flatnonzero(np.isfinite(left))}

    def token(text: str) -> str:
        return llm.detokenize(llm.tokenize(text.encode(), add_bos=False)[-1:]).decode()

    digits = {str(d) for d in range(10)}
    assert allowed("I have ") & digits == {"5", "1"}  # the start of 5 and of 1250
    assert allowed("budgets of 1,2") & digits == {"5"}  # on toward 1,250
    assert allowed("I have 5") & digits == set()  # 5 is whole: no 50, no 5.5
    assert token(" years") in allowed("I have 5") and token(".") in allowed("I have 5")  # and may end there
    since = letter.make_profile(**{**profile.as_dict(), "resume": "Analyst, Kestrel Systems, 2017–present"})
    unfinished = allowed("I have worked there for 2", since)  # toward 2017 only: never "2 years" or "20 years"
    assert unfinished and {t.strip()[:1] for t in unfinished} <= {"0"} and token(" years") not in unfinished
    assert token(" years") not in allowed("I have worked there for 20", since)
    assert token(",") in allowed("I have worked there since 2017", since)  # whole: the sentence goes on
    assert token(" years") not in allowed("I have worked there since 2017", since)  # a year, not a length
    assert token(" five") in allowed("I have") and token(" twelve") not in allowed("I have")
    assert token(" one") in allowed("I have")  # "one of", "no one": a pronoun as often as a number
    assert "½" not in allowed("I have") and "½" in allowed("I have", letter.make_profile(
        **{**profile.as_dict(), "skills": "½ marathon, SQL"}))  # a fraction sign is a number too
    for word in (" advertisement", " posting"):
        assert token(word) not in allowed("As your") and token(word) in allowed(
            "As your", letter.make_profile(**{**profile.as_dict(), "job_description": "We need SQL."}))


def test_a_number_only_the_ad_states_is_never_the_applicants_claim(llm):
    profile = letter.make_profile(name="Maria Lopez", job_title="Front Desk Lead", company_name="Acme Hotels",
                                  skills="5 years on a front desk, leading 4 receptionists", reasons="Guests.",
                                  job_description="You will lead a team of 8. At least 3 years in hospitality.")
    scores = np.zeros(llm.n_vocab(), dtype=np.single)

    def digits_after(text: str) -> set[str]:
        left = after(llm, guard(guards.FactGuard, llm, profile), text.encode(), scores)
        kept = {llm.detokenize([t]).decode(errors="ignore") for t in np.flatnonzero(np.isfinite(left))}
        return kept & set("0123456789")

    assert digits_after("I have led a team of ") == {"5", "4"}  # the applicant's own numbers only
    assert digits_after("Today I lead ") == {"5", "4"}
    for about_the_ad in ("You are looking for someone to lead a team of ", "Your ad asks for ",
                         "I see that you want ", "I led 4 receptionists, and the role asks for "):
        assert digits_after(about_the_ad) == {"5", "4", "8", "3"}, about_the_ad

    def words_after(text: str) -> set[str]:
        left = after(llm, guard(guards.FactGuard, llm, profile), text.encode(), scores)
        words = {" three", " eight", " five", " four", " twelve"}
        return {w for w in words if np.isfinite(left[llm.tokenize(w.encode(), add_bos=False)[0]])}

    assert words_after("I have") == {" five", " four"}  # in words too: "I have three years" only if the applicant has
    assert words_after("Your ad asks for") == {" three", " eight", " five", " four"}  # never twelve: no one states it
    assert guards.claims_so_far("Dear team,\n\nIn my current job I run") and not guards.claims_so_far("It has ")

    def years_after(text: str) -> bool:
        left = after(llm, guard(guards.FactGuard, llm, profile), text.encode(), scores)
        return bool(np.isfinite(left[llm.tokenize(b" years", add_bos=False)[0]]))

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
        left = after(llm, guard(guards.ClaimGuard, llm, guarded), text.encode(), given)
        return {llm.detokenize([t]).decode(errors="ignore") for t in np.flatnonzero(np.isfinite(left))}

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
    thin = letter.make_profile(**{**profile.as_dict(), "job_description": ""})
    assert " hospitality" in allowed(claim, guarded=thin)  # no ad: nothing to borrow
    begun = [t for t in allowed(claim + " hosp") if t[:1].isalpha()]  # the word being written, token by token
    assert begun and not [t for t in begun if ("hosp" + t.lower()).startswith("hospita")]
    spelled = (("hosp" + llm.detokenize([t]).decode(errors="ignore")) for t in range(llm.n_vocab()))
    assert any(word.startswith("hospita") for word in spelled)  # the model could have written it
    only_borrowed = np.full(llm.n_vocab(), -np.inf, dtype=np.single)
    only_borrowed[llm.tokenize(b" hospitality", add_bos=False)[0]] = 0.0
    assert allowed(claim, only_borrowed)  # never every token: what it cannot keep off, the rubric counts


def test_the_name_guard_keeps_names_the_profile_lacks_off_the_page(llm):
    profile = letter.make_profile(name="Dmitri Volkov", job_title="Intern", company_name="Tessellate Energy",
                                  skills="Git, Moderated usability testing, fine-tuning models", reasons="Climate.")
    scores = np.zeros(llm.n_vocab(), dtype=np.single)

    def allowed(text: str) -> np.ndarray:
        return np.isfinite(after(llm, guard(guards.NameGuard, llm, profile), text.encode(), scores))

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
    assert allowed("Dear")[ids(" Kafka")[0]]  # and so is the greeting line
    assert allowed(body)[ids(" Hiring")].all()  # words any letter may capitalize


def test_the_signature_is_the_applicants_name_as_given_and_ends_the_letter(llm):
    profile = letter.make_profile(name="Zoë Ní Bhriain", job_title="Nurse", company_name="Acme", skills="Triage",
                                  reasons="Care.")
    name = llm.tokenize(profile.name.encode(), add_bos=False)
    scores = np.random.default_rng(0).normal(size=llm.n_vocab()).astype(np.single)

    def chosen(text: bytes) -> int | None:
        finite = np.flatnonzero(np.isfinite(after(llm, guard(guards.Signature, llm, profile), text, scores)))
        return int(finite[0]) if len(finite) == 1 else None

    body = b"Dear team,\n\nI apply.\n\nKind regards,\n"
    written = b""
    for token in name:  # token by token, through the bytes of a character split across tokens
        assert chosen(body + written) == token
        written += llm.detokenize([token])
    assert chosen(body + written) == llm.token_eos()  # the name is whole: the letter ends
    assert chosen(b"Dear team,\n\nI apply.\n\nThank you for your time and for reading this.\n") is None  # no sign-off
    assert chosen(b"Dear team,\n\nI apply.\n\nSincerely, Zo\xc3\xab N\xc3\xad Bhriain\n") is None  # already signed


def test_without_an_ad_the_guard_lets_no_sentence_cite_one(llm):
    no_ad = letter.make_profile(name="James O'Connor", job_title="Nurse", company_name="Acme", skills="BSN",
                                reasons="Care.")
    with_ad = letter.make_profile(**{**no_ad.as_dict(), "job_description": "We need a BSN."})
    scores = np.zeros(llm.n_vocab(), dtype=np.single)

    def allowed(text: str, profile: letter.Profile) -> np.ndarray:
        return np.isfinite(after(llm, guard(guards.FactGuard, llm, profile), text.encode(), scores))

    ad, description = (llm.tokenize(word, add_bos=False)[0] for word in (b" ad", b" description"))
    assert not allowed("The job", no_ad)[[ad, description]].any()  # "The job ad mentions BSN": out
    assert allowed("The job", with_ad)[[ad, description]].all()
    assert allowed("I would like to", no_ad)[ad]  # elsewhere " ad" starts words and names ("Adaeze")


def test_length_steering_lengthens_short_paragraphs_and_signs_off_a_full_letter(llm):
    prompt = llm.tokenize(PROMPT, special=True)

    def paragraph(n: int) -> str:  # 57 words, no sentence said twice (the clean-up would leave repeats out)
        return " ".join(f"In project {n}.{i} I led the data work and I explained the numbers to those who needed "
                        "them." for i in range(3))

    body = "Dear team,\n\n" + "\n\n".join(map(paragraph, range(5)))  # 287 words: past what a short letter holds
    scores = np.random.default_rng(0).normal(size=llm.n_vocab()).astype(np.single)

    def steered(text: str) -> np.ndarray:
        steering = guard(guards.LengthSteering, llm, rich_profile("short"))
        steering(prompt, scores.copy())  # the first call sees the prompt alone
        return steering(prompt + llm.tokenize(text.encode(), add_bos=False), scores.copy())

    allowed = guard(guards.LengthSteering, llm, rich_profile("short")).sign_off_next[""]
    newline = llm.tokenize(b"\n", add_bos=False)[-1]
    assert len(set(allowed)) >= 8 and int(np.argmax(scores)) not in allowed  # distinct first tokens; a real change
    forced = steered(body + "\n\n")
    assert int(np.argmax(forced)) in allowed and np.isinf(np.delete(forced, allowed)).all()
    text = lambda tokens: {llm.detokenize([int(t)]).decode(errors="ignore") for t in tokens}  # noqa: E731
    assert text(np.flatnonzero(np.isfinite(steered(body + "\n\nY")))) == {"ours"}  # "Y" goes on to "Yours" only
    after_warm = steered(body + "\n\nWarm")  # a whole first word: it ends, or goes on to "Warmly"
    assert np.isfinite(after_warm[llm.tokenize(b"ly", add_bos=False)]).all()
    assert np.isinf(after_warm[llm.tokenize(b"th", add_bos=False)]).all()  # never "Warmth"
    regards = llm.tokenize(b" regards", add_bos=False)[0]
    assert after_warm[regards] == scores[regards]
    early = "Dear team,\n\n" + paragraph(0) + "\n\n"  # 59 words: a closing now would leave a short letter short
    first = lambda text: llm.tokenize(text.encode(), add_bos=False)[0]  # noqa: E731
    assert np.isinf(steered(early)[[first("Thank"), first("Best")]]).all()  # no closing, no sign-off yet
    assert steered(early)[first("I")] == scores[first("I")]  # another paragraph
    assert np.isinf(steered(early + "I would")[first(" welcome")])  # "I would welcome a chance to talk"
    assert steered(early + "I would")[first(" bring")] == scores[first(" bring")]
    assert np.isinf(steered(early + "I have led teams, and")[first(" thank")])  # no thanks anywhere yet
    late = "Dear team,\n\n" + "\n\n".join(map(paragraph, range(2))) + "\n\n"  # 116 words: a closing reaches 120
    assert steered(late)[first("Thank")] == scores[first("Thank")]
    assert steered(body)[newline] == pytest.approx(scores[newline] + guards.LINE_END_BONUS)  # only a closing fits
    assert (steered(body + "\n\nBest regards,\n") == scores).all()  # signed off: the name may follow, and the end
    started = steered("Dear team,\n\nI have led data projects")  # a short letter's paragraph at 5 words
    assert started[newline] == pytest.approx(scores[newline] - guards.LINE_BREAK_PENALTY)
    moved = [*vocabulary.line_break_tokens(llm), *guard(guards.LengthSteering, llm, rich_profile("short")).thanks,
             *vocabulary.end_tokens(llm)]
    assert (np.delete(started, moved) == np.delete(scores, moved)).all()  # only line breaks (and thanks) move


def test_before_its_sign_off_the_letter_may_not_end_the_end_becomes_a_paragraph_break(llm):
    prompt = llm.tokenize(PROMPT, special=True)
    steering = guard(guards.LengthSteering, llm, rich_profile("long"))
    paragraph_break, eos = llm.tokenize(b"\n\n", add_bos=False)[0], llm.token_eos()
    assert eos in vocabulary.end_tokens(llm)
    scores = np.zeros(llm.n_vocab(), dtype=np.single)
    scores[eos] = 5.0  # the model would end here, unsigned
    steering(prompt, scores.copy())
    closing = "Dear team,\n\n" + " ".join(f"I led study {i} and I wrote its report." for i in range(40))
    steered = steering(prompt + llm.tokenize(closing.encode(), add_bos=False), scores.copy())
    assert np.isinf(steered[vocabulary.end_tokens(llm)]).all() and steered[paragraph_break] == 5.0
    assert int(np.argmax(steered)) == paragraph_break  # a new line, where the sign-off comes
    short = steering(prompt + llm.tokenize(b"Dear team,\n\nI led a study.", add_bos=False), scores.copy())
    assert short[paragraph_break] == 5.0 and np.isinf(short[eos])  # too short to close: a new paragraph, not an end
    signed = steering(prompt + llm.tokenize(f"{closing}\n\nBest regards,\nAiko".encode(), add_bos=False), scores.copy())
    assert signed[eos] == 5.0  # signed: it ends as it likes


# --------------------------------------------------------------------------- the rules of the length

RICH = {length: rich_profile(length) for length in letter.LENGTHS}


def test_a_thin_profiles_paragraphs_go_on_only_to_its_lowered_floor():
    thin = letter.make_profile(name="Maria Lopez", job_title="Analyst", company_name="Acme", skills="SQL, Excel",
                               reasons="I like data.", length="long")
    low = letter.word_range(thin)[0]
    short_of_it = "Dear team,\n\n" + " ".join(["word"] * (low - 3))  # low - 1 words with the greeting
    assert guards.needs_more_words(short_of_it, thin)
    assert not guards.needs_more_words(short_of_it + " word", thin)  # at the lowered floor: the steering stops


def test_a_letter_signs_off_once_one_more_paragraph_would_pass_its_length():
    paragraph = " ".join(["word"] * 40)
    short_enough = "Dear team,\n\n" + paragraph + "\n\n"  # 42 words: room for more in any length
    nearly_full = "Dear team,\n\n" + "\n\n".join([paragraph] * 4) + "\n\n"  # 162 words
    assert not guards.sign_off_due(short_enough, RICH["short"])
    assert guards.sign_off_due(nearly_full, RICH["short"])  # 162 + a paragraph and a closing > 200
    assert not guards.sign_off_due(nearly_full, RICH["standard"])
    assert not guards.sign_off_due(nearly_full + "Kind regards,\n", RICH["short"])  # signed off: the name comes next
    two_long = "Dear team,\n\n" + "\n\n".join([" ".join(["word"] * 125)] * 2) + "\n\n"  # 252 words
    assert guards.sign_off_due(two_long, RICH["standard"])  # a third 125-word paragraph would pass 320
    assert not guards.sign_off_due(two_long, RICH["long"])  # never before the lower bound (320)


def test_a_line_ends_when_only_a_closing_still_fits_or_when_it_is_a_whole_sign_off():
    nearly_full = "Dear team,\n\n" + " ".join(["word"] * 180)
    assert guards.needs_line_end(nearly_full, RICH["short"])  # 182 + a closing > 200
    assert not guards.needs_line_end(nearly_full, RICH["standard"])
    assert not guards.needs_line_end(nearly_full + "\n", RICH["short"])  # it has ended
    assert not guards.needs_line_end(nearly_full + "\n\nBest regards,\nMaria", RICH["short"])  # signed off
    assert guards.needs_line_end("Dear team,\n\nI apply.\n\nWarm regards,", RICH["long"])  # the name goes below
    assert not guards.needs_line_end("Dear team,\n\nI apply.\n\nWarm regards", RICH["long"])  # the comma may follow


def test_a_paragraph_goes_on_while_its_letter_is_short_of_its_length():
    opening = "Dear team,\n\n" + " ".join(["word"] * 20)  # 22 words, in a 20-word paragraph
    assert guards.needs_more_words(opening, RICH["short"])
    assert not guards.needs_more_words(opening + "\n", RICH["short"])  # the line has ended: the blank line may follow
    assert not guards.needs_more_words("Dear team,", RICH["short"])  # the greeting's line ends when it likes
    long_paragraph = opening + " word" * guards.PARAGRAPH_WORDS["short"]
    assert not guards.needs_more_words(long_paragraph, RICH["short"])  # this paragraph is long enough
    assert guards.needs_more_words(long_paragraph, RICH["long"])  # but not for a long letter's
    full = "Dear team,\n\n" + "\n\n".join([" ".join(["word"] * 40)] * 3) + "\n\nOne more"
    assert not guards.needs_more_words(full, RICH["short"])  # 124 words: within the short range already
    assert not guards.needs_more_words(opening + "\n\nBest regards,\nMaria", RICH["long"])  # signed off
    assert not guards.needs_more_words(opening + "\n\nI would welcome a call. Thank you!", RICH["long"])  # closing


def test_a_letter_may_close_once_a_closing_would_reach_its_floor():
    low = letter.word_range(RICH["short"])[0]
    body = "Dear team,\n\n" + " ".join(["word"] * (low - guards.SHORTEST_CLOSING - 3)) + "\n\n"
    assert guards.closing_too_soon(body, RICH["short"])  # a closing now would leave the letter short
    assert not guards.closing_too_soon(body + "One more word.", RICH["short"])
    assert not guards.closing_too_soon(body + "Kind regards,\n", RICH["long"])  # signed off: too late to ask
    assert not guards.closing_too_soon("Dear", RICH["short"])  # the greeting is not a letter's body yet
