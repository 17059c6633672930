"""The guards' view of a vocabulary: its tables, read from the embedded model, and the two ways to narrow a step."""

import math

import numpy as np

from coverletter import vocabulary


def spell(llm, token: int) -> str:
    return llm.detokenize([token]).decode(errors="ignore")


def test_the_tables_sort_tokens_by_their_word_part_with_or_without_a_space(llm):
    tables = vocabulary.vocabulary_tables(llm)
    assert vocabulary.vocabulary_tables(llm) is tables  # built once per model
    spaced = tables.tokens_by_part("spaced", ["data"])
    assert spaced and all(spell(llm, t).startswith(" ") and spell(llm, t).strip().lower().startswith("data")
                          for t in spaced)
    going_on, ending = tables.pieces["data"]
    assert set(tables.tokens_by_part("pieces", ["data"])) == {*going_on, *ending}  # a word part goes on or ends
    assert all(not spell(llm, t)[:1].isspace() for t in tables.tokens_by_part("pieces", ["data"]))
    assert tables.tokens_by_part("spaced", ["no such part", "data"]) == spaced  # a part the vocabulary lacks: none
    starting = tables.parts_starting_with("spaced", "hosp")
    assert starting and all(part.startswith("hosp") for part in starting) and "hospital" in starting
    assert set(starting) == {part for part in tables.spaced if part.startswith("hosp")}


def test_the_end_tokens_are_llama_cpps_end_of_generation_set(llm):
    ends = vocabulary.end_tokens(llm)
    assert llm.token_eos() in ends
    assert llm.tokenize(b"<|im_end|>", add_bos=False, special=True)[0] in ends  # ChatML's turn end
    assert not {spell(llm, t) for t in ends} & {" the", "\n", "."}


def test_the_space_tokens_are_lone_spaces_and_the_tokens_a_space_begins(llm):
    tables = vocabulary.vocabulary_tables(llm)
    blank, space_led = tables.blank, tables.space_led
    lone = llm.tokenize(b"I have 5", add_bos=False)[-2]  # a number in digits begins with a lone space
    assert lone in blank and {spell(llm, t).strip(" ") for t in blank} == {""}
    assert llm.tokenize(b" years", add_bos=False)[0] in space_led and lone in space_led
    assert not {spell(llm, t) for t in space_led} & {"years", "\n", "."}
    assert lone in vocabulary.tokens_toward(tables, " 3d") and lone not in vocabulary.tokens_toward(tables, " site")


def test_rule_out_never_leaves_no_token_and_keep_only_keeps_the_scores_it_keeps():
    scores = np.array([1.0, 2.0, 3.0, -math.inf])
    vocabulary.rule_out(scores, [0, 1])
    assert scores.tolist() == [-math.inf, -math.inf, 3.0, -math.inf]
    vocabulary.rule_out(scores, [2])  # the last token left stays: a guard before narrowed the choices to it
    assert scores[2] == 3.0
    kept = np.array([1.0, 2.0, 3.0, 4.0])
    vocabulary.keep_only(kept, [1, 3])
    assert kept.tolist() == [-math.inf, 2.0, -math.inf, 4.0]
    among = np.array([1.0, 2.0, 3.0, 4.0])
    vocabulary.keep_only(among, [1], among=slice(0, 2))
    assert among.tolist() == [-math.inf, 2.0, 3.0, 4.0]  # outside `among`, nothing changes
