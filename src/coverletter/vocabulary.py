"""The guards' view of a model's vocabulary: which tokens hold digits, line breaks, capitalized words, or the start
or rest of a word, built once per model; the two ways a guard narrows a step's choices; and the letter so far, read
from the token ids llama.cpp passes (`AnswerReader`)."""

from __future__ import annotations

import bisect
import functools
import math
import re
from dataclasses import dataclass

import numpy

from .rubric import FRACTIONS

WORD_PIECE = re.compile(r"(\s*)([A-Za-z0-9_]+)(.?)", re.DOTALL)  # a token's leading space, word part, what follows


@dataclass(frozen=True)
class VocabularyTables:
    digit_ids: numpy.ndarray  # tokens with a digit in them
    digits: list[str]  # each one's digits, in order ("1,2" -> "12")
    joins: numpy.ndarray  # whether it starts with a digit, so it goes on a number just written
    words: dict[str, list[int]]  # lower-case whole words -> the tokens that are that word (" Five", "five", ...)
    capitals: numpy.ndarray  # tokens that start a capitalized word (" Git", "Git")
    capital_words: list[str]  # each one's word part, lower-case ("git")
    capital_whole: numpy.ndarray  # whether the token also ends that word ("Git," or " Git ")
    capital_spaced: numpy.ndarray  # whether a space comes first, so it starts a new word wherever it goes
    capital_acronym: numpy.ndarray  # whether its word part is capitals only, two or more ("HR", " ICS"): a name
    letters: numpy.ndarray  # tokens that start with a letter or digit: they go on a word just written
    pieces: dict[str, tuple[list[int], list[int]]]  # letter tokens by word part: (those all word, those that end it)
    spaced: dict[str, list[int]]  # tokens that start a new word after a space, by lower-case word part (" Hosp")
    fractions: dict[int, str]  # tokens with a fraction sign, and the signs ("½"): numbers that are not digits
    accented: dict[int, str]  # tokens with letters outside English's alphabet, and those letters ("ífica": "í")
    blank: list[int]  # tokens that are only spaces (" "): how a number in digits begins
    space_led: list[int]  # tokens that begin with a space (" years")
    dashes: list[int]  # tokens that begin with a dash, after a space or not ("-", " –"): how a range goes on
    lower_pieces: list[int]  # `letters` in lower case but a lone "s" ("iversidad", not "s"): a word in capitals goes
    # on in lower case only where it bends ("UN" + "iversidad"), or is a plural ("APIs")

    @functools.cached_property
    def by_part(self) -> dict[str, dict[str, list[int]]]:  # each table's tokens by word part, ending the word or not
        return {"spaced": self.spaced, "pieces": {part: [*on, *end] for part, (on, end) in self.pieces.items()}}

    @functools.cached_property
    def capital_set(self) -> frozenset[int]:  # `capitals` for membership tests
        return frozenset(self.capitals.tolist())

    @functools.cached_property
    def sorted_parts(self) -> dict[str, list[str]]:  # each table's word parts, sorted once: lookups by prefix
        return {table: sorted(parts) for table, parts in self.by_part.items()}

    def tokens_by_part(self, table: str, parts) -> list[int]:
        """The tokens of a table ("spaced" or "pieces") whose lower-case word part is one of these."""
        tokens = self.by_part[table]
        return [token for part in parts for token in tokens.get(part, [])]

    def parts_starting_with(self, table: str, start: str) -> list[str]:
        """The word parts of a table ("spaced" or "pieces") that begin with `start`."""
        keys = self.sorted_parts[table]
        return keys[bisect.bisect_left(keys, start):bisect.bisect_left(keys, start + "\uffff")]

    def upper_parts(self) -> list[tuple[int, str, bool]]:
        """The capital tokens written all in capitals ("R", " VET", "CRU"): their letters, and whether spaced."""
        return [(token, word.upper(), spaced) for token, word, spaced, acronym in zip(
            self.capitals, self.capital_words, self.capital_spaced, self.capital_acronym) if acronym or len(word) == 1]

    def tokens_of(self, words) -> list[int]:
        """The tokens that are one of these lower-case whole words, with or without a space or a capital."""
        return [token for word in words for token in self.words.get(word, [])]


@functools.cache
def vocabulary_tables(llm) -> VocabularyTables:
    """The guard's view of the vocabulary, built once per model."""
    digit_ids, digits, joins, words = [], [], [], {}
    capitals, capital_words, capital_whole, capital_spaced, letters, pieces, spaced = [], [], [], [], [], {}, {}
    capital_acronym = []
    fractions, accented, blank, space_led, dashes, lower_pieces = {}, {}, [], [], [], []
    for token in range(llm.n_vocab()):
        text = llm.detokenize([token]).decode("utf-8", errors="ignore")
        if text[:1] == " ":
            space_led.append(token)
            if not text.strip(" "):
                blank.append(token)
        if text.lstrip(" ")[:1] in ("-", "–", "—"):
            dashes.append(token)
        if signs := "".join(ch for ch in text if ch in FRACTIONS):
            fractions[token] = signs
        if foreign := "".join(ch for ch in text if ch.isalpha() and not ch.isascii()):
            accented[token] = foreign
        if any(ch.isdigit() for ch in text):
            digit_ids.append(token)
            digits.append("".join(ch for ch in text if ch.isdigit() or ch == "."))
            joins.append(text[:1].isdigit())
        elif text.strip().isalpha():
            words.setdefault(text.strip().lower(), []).append(token)
        if word := WORD_PIECE.match(text):
            space, part, after = word.groups()
            if part[0].isupper():
                capitals.append(token)
                capital_words.append(part.lower())
                capital_whole.append(bool(after))
                capital_spaced.append(bool(space))
                capital_acronym.append(len(part) >= 2 and part.isupper())
            if not space:
                letters.append(token)
                if part[0].islower() and part != "s":
                    lower_pieces.append(token)
                pieces.setdefault(part.lower(), ([], []))[bool(after)].append(token)
            else:
                spaced.setdefault(part.lower(), []).append(token)
    return VocabularyTables(numpy.array(digit_ids, dtype=int), digits, numpy.array(joins, dtype=bool), words,
                            numpy.array(capitals, dtype=int), capital_words, numpy.array(capital_whole, dtype=bool),
                            numpy.array(capital_spaced, dtype=bool), numpy.array(capital_acronym, dtype=bool),
                            numpy.array(letters, dtype=int), pieces, spaced,
                            fractions, accented, blank, space_led, dashes, lower_pieces)


@functools.cache
def line_break_tokens(llm) -> list[int]:
    """The vocabulary's tokens that hold a line break (looked up once per model)."""
    return [token for token in range(llm.n_vocab()) if b"\n" in llm.detokenize([token])]


@functools.cache
def end_tokens(llm) -> list[int]:
    """The tokens that end the text: llama.cpp's end-of-generation set ("<|im_end|>", "<|eot_id|>", ...), through its
    C API (llama-cpp-python has no method for it), once per model."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    return [token for token in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, token)]


def pieces_toward(tables: VocabularyTables, rest: str) -> list[int]:
    """Tokens that spell the start of `rest` (lower-case, any case in the token), or all of it and then end."""
    tokens = []
    for k in range(1, len(rest) + 1):
        going_on, ending = tables.pieces.get(rest[:k], ((), ()))
        tokens += [*going_on, *(ending if k == len(rest) else ())]
    return tokens


def phrase_begun(text: str, phrase: str) -> int:
    """How much of a lower-case phrase the text ends with, begun at a word's start: 0 for none, never all of it."""
    lower = text.lower()
    return next((k for k in range(len(phrase) - 1, 0, -1)
                 if lower.endswith(phrase[:k]) and not text[-k - 1:-k].isalnum()), 0)


def tokens_toward(tables: VocabularyTables, rest: str) -> list[int]:
    """The tokens that go on toward the lower-case rest of a phrase: the starts of its next word after a space
    (" grading" of "site grading"; a lone space before a number, " 3D" of "Civil 3D"), or else the rest of the word
    being written ("bernetes" of "Kubernetes")."""
    found = re.match(r"( ?)([a-z0-9_]+)", rest)
    if not found:
        return []
    space, word = found.groups()
    if space:
        lead = tables.blank if word[0].isdigit() else []
        return [*lead, *(token for k in range(1, len(word) + 1) for token in tables.spaced.get(word[:k], []))]
    return pieces_toward(tables, word)


def rule_out(scores, tokens) -> None:
    """Rule these tokens out, unless nothing else is left: a guard before may have narrowed the step's choices."""
    left = numpy.isfinite(scores)
    left[tokens] = False
    if left.any():
        scores[tokens] = -math.inf


def keep_only(scores, tokens, among=slice(None)) -> None:
    """Rule out every token in `among` (all of them by default) except `tokens`, whose scores stay as they were."""
    kept = scores[tokens].copy()
    scores[among] = -math.inf
    scores[tokens] = kept


class AnswerReader:
    """The letter so far, from the token ids a llama.cpp logits processor is given at each step: the first call
    sees the prompt alone, each later one the tokens written since. One reader serves every guard of a letter;
    whichever guard runs first at a step reads the new tokens, and the others find nothing more to read."""

    def __init__(self, llm):
        self.llm, self.read, self.answer = llm, None, b""  # tokens read (the prompt on the first call); bytes

    def read_up_to(self, input_ids) -> bytes:
        """The answer's bytes (a name may end inside a character), having read up to the last of `input_ids`."""
        if self.read is not None:
            self.answer += self.llm.detokenize(list(input_ids[self.read:]))
        self.read = len(input_ids)
        return self.answer

    def text(self, input_ids) -> str:
        return self.read_up_to(input_ids).decode("utf-8", errors="ignore")
