"""The steering: llama.cpp logits processors that hold the letter to its length and sign it with the applicant's
name; and the rules of the length they apply."""

import numpy as np
import pytest

from coverletter import letter, steering, vocabulary

from conftest import PROMPT, after, guard, kept_after, rich_profile


def test_the_signature_is_the_applicants_name_as_given_and_ends_the_letter(llm):
    profile = letter.make_profile(name="Zoë Ní Bhriain", job_title="Nurse", company_name="Acme", skills="Triage",
                                  reasons="Care.")
    name = llm.tokenize(profile.name.encode(), add_bos=False)
    scores = np.random.default_rng(0).normal(size=llm.n_vocab()).astype(np.single)

    def chosen(text: bytes) -> int | None:
        finite = np.flatnonzero(np.isfinite(after(llm, guard(steering.Signature, llm, profile), text, scores)))
        return int(finite[0]) if len(finite) == 1 else None

    body = b"Dear team,\n\nI apply.\n\nKind regards,\n"
    written = b""
    for token in name:  # token by token, through the bytes of a character split across tokens
        assert chosen(body + written) == token
        written += llm.detokenize([token])
    assert chosen(body + written) == llm.token_eos()  # the name is whole: the letter ends
    assert chosen(b"Dear team,\n\nI apply.\n\nThank you for your time and for reading this.\n") is None  # no sign-off
    assert chosen(b"Dear team,\n\nI apply.\n\nSincerely, Zo\xc3\xab N\xc3\xad Bhriain\n") is None  # already signed

    def kept(text: str) -> set[str]:
        left = after(llm, guard(steering.Signature, llm, profile), text.encode(), np.zeros(llm.n_vocab(), np.single))
        return {llm.detokenize([t]).decode(errors="ignore") for t in np.flatnonzero(np.isfinite(left))}

    inline = kept("Dear team,\n\nI apply. I can come in whenever suits you.")  # a sign-off on a line of its own
    assert not {" Best", " Kind", " Yours", " Warm"} & inline and {" Thank", " I", " Since", " Reg"} <= inline
    assert "ards" not in kept("Dear team,\n\nI apply. Reg") and "re" not in kept("Dear team,\n\nI apply. Since")
    assert "ards" in kept("Dear team,\n\nI apply.\n\nReg") and "Best" in kept("Dear team,\n\nI apply.\n\n")
    assert {" ", " the"} <= kept("Dear team,\n\nI apply. Since")  # "Since 2017", "Since the start"


def test_length_steering_lengthens_short_paragraphs_and_signs_off_a_full_letter(llm):
    prompt = llm.tokenize(PROMPT, special=True)

    def paragraph(n: int) -> str:  # 57 words, no sentence said twice (the clean-up would leave repeats out)
        return " ".join(f"In project {n}.{i} I led the data work and I explained the numbers to those who needed "
                        "them." for i in range(3))

    body = "Dear team,\n\n" + "\n\n".join(map(paragraph, range(5)))  # 287 words: past what a short letter holds
    scores = np.random.default_rng(0).normal(size=llm.n_vocab()).astype(np.single)

    def steered(text: str) -> np.ndarray:
        steerer = guard(steering.LengthSteering, llm, rich_profile("short"))
        steerer(prompt, scores.copy())  # the first call sees the prompt alone
        return steerer(prompt + llm.tokenize(text.encode(), add_bos=False), scores.copy())

    allowed = guard(steering.LengthSteering, llm, rich_profile("short")).sign_off_next[""]
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
    assert np.isinf(steered(early + "Since")[first("re")]) and np.isfinite(steered(early + "Since")[first(" I")])
    assert np.isinf(steered(early + "I would")[first(" welcome")])  # "I would welcome a chance to talk"
    assert steered(early + "I would")[first(" bring")] == scores[first(" bring")]
    assert np.isinf(steered(early + "I have led teams, and")[first(" thank")])  # no thanks anywhere yet
    late = "Dear team,\n\n" + "\n\n".join(map(paragraph, range(2))) + "\n\n"  # 116 words: a closing reaches 120
    assert steered(late)[first("Thank")] == scores[first("Thank")]
    assert steered(body)[newline] == pytest.approx(scores[newline] + steering.LINE_END_BONUS)  # only a closing fits
    assert (steered(body + "\n\nBest regards,\n") == scores).all()  # signed off: the name may follow, and the end
    started = steered("Dear team,\n\nI have led data projects")  # a short letter's paragraph at 5 words
    assert started[newline] == pytest.approx(scores[newline] - steering.LINE_BREAK_PENALTY)
    moved = [*vocabulary.line_break_tokens(llm), *guard(steering.LengthSteering, llm, rich_profile("short")).thanks,
             *vocabulary.end_tokens(llm)]
    assert (np.delete(started, moved) == np.delete(scores, moved)).all()  # only line breaks (and thanks) move


def test_before_its_sign_off_the_letter_may_not_end_the_end_becomes_a_paragraph_break(llm):
    prompt = llm.tokenize(PROMPT, special=True)
    steerer = guard(steering.LengthSteering, llm, rich_profile("long"))
    paragraph_break, eos = llm.tokenize(b"\n\n", add_bos=False)[0], llm.token_eos()
    assert eos in vocabulary.end_tokens(llm)
    scores = np.zeros(llm.n_vocab(), dtype=np.single)
    scores[eos] = 5.0  # the model would end here, unsigned
    steerer(prompt, scores.copy())
    closing = "Dear team,\n\n" + " ".join(f"I led study {i} and I wrote its report." for i in range(40))
    steered = steerer(prompt + llm.tokenize(closing.encode(), add_bos=False), scores.copy())
    assert np.isinf(steered[vocabulary.end_tokens(llm)]).all() and steered[paragraph_break] == 5.0
    assert int(np.argmax(steered)) == paragraph_break  # a new line, where the sign-off comes
    short = steerer(prompt + llm.tokenize(b"Dear team,\n\nI led a study.", add_bos=False), scores.copy())
    assert short[paragraph_break] == 5.0 and np.isinf(short[eos])  # too short to close: a new paragraph, not an end
    signed = steerer(prompt + llm.tokenize(f"{closing}\n\nBest regards,\nAiko".encode(), add_bos=False), scores.copy())
    assert signed[eos] == 5.0  # signed: it ends as it likes


# --------------------------------------------------------------------------- the rules of the length

RICH = {length: rich_profile(length) for length in letter.LENGTHS}


def test_a_thin_profiles_paragraphs_go_on_only_to_its_lowered_floor():
    thin = letter.make_profile(name="Maria Lopez", job_title="Analyst", company_name="Acme", skills="SQL, Excel",
                               reasons="I like data.", length="long")
    low = letter.word_range(thin)[0]
    short_of_it = "Dear team,\n\n" + " ".join(["word"] * (low - 3))  # low - 1 words with the greeting
    assert steering.needs_more_words(short_of_it, thin)
    assert not steering.needs_more_words(short_of_it + " word", thin)  # at the lowered floor: the steering stops


def test_a_letter_signs_off_once_one_more_paragraph_would_pass_its_length():
    paragraph = " ".join(["word"] * 40)
    short_enough = "Dear team,\n\n" + paragraph + "\n\n"  # 42 words: room for more in any length
    nearly_full = "Dear team,\n\n" + "\n\n".join([paragraph] * 4) + "\n\n"  # 162 words
    assert not steering.sign_off_due(short_enough, RICH["short"])
    assert steering.sign_off_due(nearly_full, RICH["short"])  # 162 + a paragraph and a closing > 200
    assert not steering.sign_off_due(nearly_full, RICH["standard"])
    assert not steering.sign_off_due(nearly_full + "Kind regards,\n", RICH["short"])  # signed off: the name comes next
    two_long = "Dear team,\n\n" + "\n\n".join([" ".join(["word"] * 125)] * 2) + "\n\n"  # 252 words
    assert steering.sign_off_due(two_long, RICH["standard"])  # a third 125-word paragraph would pass 320
    assert not steering.sign_off_due(two_long, RICH["long"])  # never before the lower bound (320)


def test_a_line_ends_when_only_a_closing_still_fits_or_when_it_is_a_whole_sign_off():
    nearly_full = "Dear team,\n\n" + " ".join(["word"] * 180)
    assert steering.needs_line_end(nearly_full, RICH["short"])  # 182 + a closing > 200
    assert not steering.needs_line_end(nearly_full, RICH["standard"])
    assert not steering.needs_line_end(nearly_full + "\n", RICH["short"])  # it has ended
    assert not steering.needs_line_end(nearly_full + "\n\nBest regards,\nMaria", RICH["short"])  # signed off
    assert steering.needs_line_end("Dear team,\n\nI apply.\n\nWarm regards,", RICH["long"])  # the name goes below
    assert not steering.needs_line_end("Dear team,\n\nI apply.\n\nWarm regards", RICH["long"])  # the comma may follow


def test_a_paragraph_goes_on_while_its_letter_is_short_of_its_length():
    opening = "Dear team,\n\n" + " ".join(["word"] * 20)  # 22 words, in a 20-word paragraph
    assert steering.needs_more_words(opening, RICH["short"])
    assert not steering.needs_more_words(opening + "\n", RICH["short"])  # the line has ended: the blank line may follow
    assert not steering.needs_more_words("Dear team,", RICH["short"])  # the greeting's line ends when it likes
    long_paragraph = opening + " word" * steering.PARAGRAPH_WORDS["short"]
    assert not steering.needs_more_words(long_paragraph, RICH["short"])  # this paragraph is long enough
    assert steering.needs_more_words(long_paragraph, RICH["long"])  # but not for a long letter's
    full = "Dear team,\n\n" + "\n\n".join([" ".join(["word"] * 40)] * 3) + "\n\nOne more"
    assert not steering.needs_more_words(full, RICH["short"])  # 124 words: within the short range already
    assert not steering.needs_more_words(opening + "\n\nBest regards,\nMaria", RICH["long"])  # signed off
    assert not steering.needs_more_words(opening + "\n\nI would welcome a call. Thank you!", RICH["long"])  # closing


def test_a_letter_may_close_once_a_closing_would_reach_its_floor():
    low = letter.word_range(RICH["short"])[0]
    body = "Dear team,\n\n" + " ".join(["word"] * (low - steering.SHORTEST_CLOSING - 3)) + "\n\n"
    assert steering.closing_too_soon(body, RICH["short"])  # a closing now would leave the letter short
    assert not steering.closing_too_soon(body + "One more word.", RICH["short"])
    assert not steering.closing_too_soon(body + "Kind regards,\n", RICH["long"])  # signed off: too late to ask
    assert not steering.closing_too_soon("Dear", RICH["short"])  # the greeting is not a letter's body yet


def test_the_repeat_guard_keeps_a_skill_from_being_named_a_third_time(llm):
    profile = letter.make_profile(name="Rahul Mehta", job_title="DevOps Engineer", company_name="Acme",
                                  skills="Kubernetes, site grading, dry needling, communication, Civil 3D",
                                  reasons="Scale.")

    def allowed(text: str) -> set[str]:
        return kept_after(llm, steering.RepeatGuard, profile, text)

    twice = "I run Kubernetes and site grading. Kubernetes and site grading are daily work. Dry needling too. I use"
    assert "ber" not in allowed(twice + " Ku") and "ber" in allowed("I use Kubernetes. I use Ku")  # once: free
    assert "af" in allowed(twice + " K") or "afka" in allowed(twice + " K")  # "K" may become another word
    assert " grading" not in allowed(twice + " site") and " gr" not in allowed(twice + " site")
    assert {" team", "s", " grading"} - allowed(twice + " site") == {" grading"}  # "site" itself ends as it likes
    assert " need" in allowed(twice + " dry")  # dry needling was named once
    assert " need" not in allowed(twice + " dry needling. Then dry")
    assert " " not in allowed("Civil 3D and Civil 3D. I know Civil") and " " in allowed("I know Civil")
    nudged = after(llm, guard(steering.RepeatGuard, llm, profile), f"Dear team,\n\n{twice}".encode(),
                   np.zeros(llm.n_vocab(), dtype=np.single))
    for word, penalty in ((" Ku", steering.REPEAT_PENALTY), (" site", steering.REPEAT_PENALTY), (" dry", 0.0),
                          (" K", 0.0), (" team", 0.0)):  # dry needling named once; " K" may become "Kafka"
        assert nudged[llm.tokenize(word.encode(), add_bos=False)[0]] == -penalty, word
    talk = "My communication is clear, and communication matters. I value"
    assert allowed(talk + " co") == allowed("I value co")  # not yet: "co" may become anything
    assert not {"un", "unic", "unication"} & allowed(talk + " comm")
    only = np.full(llm.n_vocab(), -np.inf, dtype=np.single)
    only[llm.tokenize(b" grading", add_bos=False)[0]] = 0.0
    left = after(llm, guard(steering.RepeatGuard, llm, profile), f"Dear team,\n\n{twice} site".encode(), only)
    assert np.isfinite(left).any()  # never every token: what it cannot keep off, the rubric counts
