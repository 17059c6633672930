"""The guards: llama.cpp logits processors that keep numbers, names and ads the profile lacks off the page, and
sign the letter with the applicant's name."""

import numpy as np
import pytest
from llama_cpp import Llama

from coverletter import generate, letter
from coverletter.model import embedded_gguf

PROMPT = b"<|im_start|>user\nWrite a letter.<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def llm():
    return Llama(str(embedded_gguf("smollm2-135m-instruct")), vocab_only=True, verbose=False)


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
        left = after(llm, generate.FactGuard(llm, guarded), text.encode(), scores)
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
    assert token(" years") in allowed("I have worked there since 2017", since)
    assert token(" five") in allowed("I have") and token(" twelve") not in allowed("I have")
    assert token(" one") in allowed("I have")  # "one of", "no one": a pronoun as often as a number
    for word in (" advertisement", " posting"):
        assert token(word) not in allowed("As your") and token(word) in allowed(
            "As your", letter.make_profile(**{**profile.as_dict(), "job_description": "We need SQL."}))


def test_the_name_guard_keeps_names_the_profile_lacks_off_the_page(llm):
    profile = letter.make_profile(name="Dmitri Volkov", job_title="Intern", company_name="Tessellate Energy",
                                  skills="Git, Moderated usability testing, fine-tuning models", reasons="Climate.")
    scores = np.zeros(llm.n_vocab(), dtype=np.single)

    def allowed(text: str) -> np.ndarray:
        return np.isfinite(after(llm, generate.NameGuard(llm, profile), text.encode(), scores))

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
        finite = np.flatnonzero(np.isfinite(after(llm, generate.Signature(llm, profile), text, scores)))
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
        return np.isfinite(after(llm, generate.FactGuard(llm, profile), text.encode(), scores))

    ad, description = (llm.tokenize(word, add_bos=False)[0] for word in (b" ad", b" description"))
    assert not allowed("The job", no_ad)[[ad, description]].any()  # "The job ad mentions BSN": out
    assert allowed("The job", with_ad)[[ad, description]].all()
    assert allowed("I would like to", no_ad)[ad]  # elsewhere " ad" starts words and names ("Adaeze")
