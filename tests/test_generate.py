"""The fact guard: a llama.cpp logits processor that keeps numbers and ads the profile lacks off the page."""

import numpy as np
from llama_cpp import Llama

from coverletter import generate, letter
from coverletter.model import embedded_gguf


def test_the_fact_guard_lets_only_the_profiles_numbers_and_no_absent_ad_onto_the_page():
    llm = Llama(str(embedded_gguf("smollm2-135m-instruct")), vocab_only=True, verbose=False)
    prompt = llm.tokenize(b"<|im_start|>user\nWrite a letter.<|im_end|>\n<|im_start|>assistant\n", special=True)
    profile = letter.make_profile(name="Maria Lopez", job_title="Analyst", company_name="Acme",
                                  skills="5 years of SQL, budgets of 1,250 pounds", reasons="Data.")
    scores = np.zeros(llm.n_vocab(), dtype=np.single)

    def allowed(text: str, guarded: letter.Profile = profile) -> set[str]:
        guard = generate.FactGuard(llm, guarded)
        guard(prompt, scores.copy())
        after = guard(prompt + llm.tokenize(text.encode(), add_bos=False), scores.copy())
        return {llm.detokenize([t]).decode(errors="ignore") for t in np.flatnonzero(np.isfinite(after))}

    def token(text: str) -> str:
        return llm.detokenize(llm.tokenize(text.encode(), add_bos=False)[-1:]).decode()

    digits = {str(d) for d in range(10)}
    assert allowed("I have ") & digits == {"5", "1"}  # the start of 5 and of 1250
    assert allowed("budgets of 1,2") & digits == {"5"}  # on toward 1,250
    assert allowed("I have 5") & digits == set()  # 5 is whole: no 50, no 5.5
    assert token(" five") in allowed("I have") and token(" twelve") not in allowed("I have")
    assert token(" one") in allowed("I have")  # "one of", "no one": a pronoun as often as a number
    for word in (" advertisement", " posting"):
        assert token(word) not in allowed("As your") and token(word) in allowed(
            "As your", letter.make_profile(**{**profile.as_dict(), "job_description": "We need SQL."}))

