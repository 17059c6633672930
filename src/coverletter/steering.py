"""The shape of a letter, steered as it is written: llama.cpp logits processors that hold it to its requested
length (`LengthSteering`), sign it with the applicant's name (`Signature`) and keep a skill from being named a third
time (`RepeatGuard`, the first habit of template prose), and the rules of the length they apply. `guards.processors`
runs them after the guards on facts; like those, they read the letter through the shared `vocabulary.AnswerReader`,
and the model still chooses every word.
"""

from __future__ import annotations

import math
import re

import numpy

from . import facts, letter, prose
from .vocabulary import (AnswerReader, end_tokens, keep_only, line_break_tokens, phrase_begun, pieces_toward, rule_out,
                         tokens_toward, vocabulary_tables)

LINE_BREAK_PENALTY = 1000.0  # logit off line breaks while a paragraph should go on: a ban (docs/experiments.md)
LINE_END_BONUS = 4.0  # logit onto line breaks when a line should end
REPEAT_PENALTY = 5.0  # logits off a skill's start once it is named twice: a strong nudge, not a ban
# First words of a sign-off or of the thanks that close a letter; not "With": body sentences start with it too
SIGN_OFF_STARTS = sorted({phrase.split()[0].capitalize() for phrase in letter.SIGN_OFFS} - {"With"})
SIGN_OFF_WORDS = [word.lower() for word in SIGN_OFF_STARTS]  # as a line's first word is written mid-line
# Words a body paragraph should reach while its letter is short of its length: a tuned model closes after a set
# number of paragraphs whatever the length, so their size carries it (values chosen in docs/experiments.md)
PARAGRAPH_WORDS = {"short": 30, "standard": 45, "long": 90}
THANKS = re.compile(r"\bthanks?\b", re.IGNORECASE)
CLOSING_WORDS = 25  # "Thank you for ... I look forward to hearing from you." and the sign-off: the most it takes
# How a closing paragraph begins (the synthetic letters' closings, `synthetic.CLOSINGS`, their thanks, and the
# tuned model's own variants of them), by the words before the one that makes it a closing: "I would" + "welcome"
CLOSING_STARTS = {"": ("thank", "thanks"), "I": ("cannot", "look"), "I can": ("tell",), "I would": ("welcome",),
                  "I would be": ("glad", "thrilled", "delighted", "happy", "pleased", "excited", "grateful"),
                  "I would love to": ("talk", "tell"), "It would be a": ("pleasure",), "It is a": ("pleasure",)}
SENTENCE_ENDED = re.compile(r"[^\s][.!?][ \t]*\Z")  # the line so far ends a sentence: no sign-off may follow in it
SIGN_OFF_BEGUN = re.compile(r"[^\s][.!?][ \t]+([A-Za-z]+)\Z")  # a word begun after a sentence in the line
SHORTEST_CLOSING = 12  # "I would love to talk about my SQL. Thank you!", the sign-off and the name: the least
# (a closing held back longer makes the model pad: "Regraffling it out", hashtags; docs/experiments.md, session 20)



def needs_more_words(text: str, profile: letter.Profile) -> bool:
    """Whether the paragraph being written should go on with another sentence: the letter is past its greeting and
    short of its length's range (`word_range`: a thin profile's floor is lower), and the paragraph is short of the
    length's usual size. A paragraph that thanks the reader is the closing, and ends when it likes. Small models do
    not count words (docs/experiments.md), so the app steers the way the synthetic letters vary their length: by the
    sentences in each paragraph."""
    lines = text.split("\n")  # a line just ended ("" last) is a decision taken: its blank line may follow
    if len(lines) < 2 or lines[-1] == "" or letter.signed_off(text) or THANKS.search(lines[-1]):
        return False
    short_letter = letter.word_count(text) < letter.word_range(profile)[0]
    return short_letter and letter.word_count(lines[-1]) < PARAGRAPH_WORDS[profile.length]


def closing_too_soon(text: str, profile: letter.Profile) -> bool:
    """Whether the letter is too short to close yet: a closing paragraph and a sign-off, begun now, would leave it
    short of its floor. Small models close after a set number of paragraphs, whatever their size."""
    too_short = letter.word_count(text) + SHORTEST_CLOSING < letter.word_range(profile)[0]
    return not letter.signed_off(text) and "\n" in text and too_short


def needs_line_end(text: str, profile: letter.Profile) -> bool:
    """Whether the line being written should end at its next sentence: only a closing still fits the length, or
    the line is a whole sign-off ("Kind regards,"), which the name follows on a line of its own."""
    last = text.split("\n")[-1]
    if last.endswith(",") and letter.is_sign_off(last):
        return True
    full = letter.word_count(text) + CLOSING_WORDS > letter.word_range(profile)[1]
    return last != "" and not letter.signed_off(text) and full


def sign_off_due(text: str, profile: letter.Profile) -> bool:
    """Whether a letter should close at the start of its next line: it has reached its length's lower bound, and
    a paragraph as long as its longest so far, then a closing, would take it past the upper bound. Not once it
    has signed off, so that the name follows."""
    low, high = letter.word_range(profile)
    words = letter.word_count(text)
    longest = max(map(letter.word_count, text.split("\n")[1:]), default=0)
    room = high - max(longest, PARAGRAPH_WORDS[profile.length]) - CLOSING_WORDS
    return not letter.signed_off(text) and words >= low and words > room


def sign_off_rest(part: str, words: list[str], tables) -> list[int]:
    """The tokens that would take `part`, a word begun, on to one of these lower-case sign-off words ("Since" +
    "rely", "Reg" + "ards"): a token that only begins a sign-off word starts other words too ("Since I"). Not
    after fewer than three letters ("Y" + "ou" is "You"; a ban on "W" + "arm" bent it into "Warmside", session 19)."""
    part = part.lower()
    return [token for word in words if len(part) >= 3 and word.startswith(part) and word != part
            for token in pieces_toward(tables, word[len(part):])]


class LengthSteering:
    """A llama.cpp logits processor that holds a letter to its requested length, the way the synthetic letters vary
    theirs, by the sentences in each paragraph: while a paragraph should go on (`needs_more_words`), line
    breaks cost LINE_BREAK_PENALTY, so it gets one more sentence; while a closing begun now would leave the letter
    short (`closing_too_soon`), no paragraph opens as a closing (`CLOSING_STARTS`), thanks the reader
    or signs off; before a sign-off, the text may not end (`end_as_paragraph_break`); when only a closing still
    fits, or a sign-off line is whole (`needs_line_end`), line breaks gain LINE_END_BONUS; once one more paragraph
    would pass the range (`sign_off_due`), the next line can only be a sign-off, its first word spelled out
    ("Sincerely", "Yours", "Thank", ...)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.llm, self.profile = llm, profile
        tables = vocabulary_tables(llm)
        self.letters = tables.letters
        self.sign_off_next = {}  # a sign-off's first word so far -> the tokens that go on with it
        for word in SIGN_OFF_STARTS:
            tokens = llm.tokenize(word.encode(), add_bos=False, special=False)
            for k, token in enumerate(tokens):
                self.sign_off_next.setdefault(llm.detokenize(tokens[:k]).decode(errors="ignore"), []).append(token)
        self.line_break_tokens = line_break_tokens(llm)
        self.closing_words = {start: tables.tokens_of(words)  # "I would" -> " welcome", ...
                              for start, words in CLOSING_STARTS.items()}
        self.closing_words[""] += tables.tokens_of(SIGN_OFF_WORDS)  # nor sign off
        self.thanks = tables.tokens_of(CLOSING_STARTS[""])
        self.tables = tables
        self.ends = end_tokens(llm)
        self.paragraph_break = llm.tokenize(b"\n\n", add_bos=False, special=False)[:1]  # "\n\n", or "\n" of it
        self.reader = reader

    def __call__(self, input_ids, scores):
        raw = self.reader.text(input_ids)
        text = letter.clean_letter(raw, finished=False) + raw[len(raw.rstrip()):]  # as shown: repeats do not count
        line = text.split("\n")[-1]
        end = scores[self.ends].max()  # the model's wish to end here, before any steering
        if closing_too_soon(text, self.profile):  # no closing words, no thanks anywhere yet
            scores[self.thanks] = -math.inf
            scores[self.closing_words.get(line.strip(), [])] = -math.inf
            rule_out(scores, sign_off_rest(line.strip(), SIGN_OFF_WORDS, self.tables))  # nor "Since" + "rely"
        if needs_more_words(text, self.profile):
            scores[self.line_break_tokens] -= LINE_BREAK_PENALTY
        elif (line in self.sign_off_next or line in SIGN_OFF_STARTS) and sign_off_due(text, self.profile):
            self.spell_sign_off(line, scores)
            return scores
        elif needs_line_end(text, self.profile):
            scores[self.line_break_tokens] += LINE_END_BONUS
        if not letter.signed_off(text):
            self.end_as_paragraph_break(line, end, scores)
        return scores

    def end_as_paragraph_break(self, line: str, end: float, scores) -> None:
        """Before its sign-off a letter may not end (a small model stops after a closing sentence, unsigned): the
        end's chance goes to a paragraph break, even where the paragraph should go on, and the next paragraph
        closes the letter if its length allows, or adds to it. Forbidding the end alone made the model sign off
        inside the paragraph and go on ("Best regards, Rahul Mehta. #DevOps")."""
        rule_out(scores, self.ends)
        if line.strip():
            scores[self.paragraph_break] = numpy.maximum(scores[self.paragraph_break], end)

    def spell_sign_off(self, line: str, scores) -> None:
        """A sign-off's first word, token by token from the line's start ("Y", "ours"), and then the word ends."""
        going_on = self.sign_off_next.get(line, [])  # "Warm" may end, or go on to "Warmly"
        keep_only(scores, going_on, among=self.letters if line in SIGN_OFF_STARTS else slice(None))


class Signature:
    """A llama.cpp logits processor that signs the letter with the applicant's name as given: once a sign-off line
    ("Kind regards,") ends, the next line is the name and the letter ends with it. Small models misspell the
    name there, sign as someone else ("Ibid."), or go on. A sign-off stands on a line of its own: after a sentence
    in the same line its first word is out ("…whenever suits you. Regards, Tomasz" was then signed a second time)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        tokens = llm.tokenize(profile.name.encode(), add_bos=False, special=False)
        self.next = {llm.detokenize(tokens[:k]): token for k, token in enumerate(tokens)}  # name so far -> next
        self.next[llm.detokenize(tokens)] = llm.token_eos()
        self.name = profile.name.lower()
        # "Thank you for your time." follows a sentence as often as it closes a letter
        self.sign_off_words = [word for word in SIGN_OFF_WORDS if word != "thank"]
        self.tables, self.reader = vocabulary_tables(llm), reader

    def __call__(self, input_ids, scores):
        self.sign_off_on_its_own_line(self.reader.text(input_ids).rpartition("\n")[2], scores)
        *_, sign_off, line = [b"", *self.reader.read_up_to(input_ids).split(b"\n")]  # bytes, as the name's tokens
        sign_off = sign_off.decode("utf-8", errors="ignore")
        if line in self.next and letter.is_sign_off(sign_off) and self.name not in sign_off.lower():
            token = self.next[line]
            scores[:] = -math.inf
            scores[token] = 0.0
        return scores

    def sign_off_on_its_own_line(self, line: str, scores) -> None:
        """After a sentence in the line, no sign-off's first word: whole (" Best") or, where a token only begins
        it, its rest (" Reg" + "ards", " Since" + "rely"; " Since 2017" stays)."""
        if SENTENCE_ENDED.search(line):
            scores[self.tables.tokens_of(self.sign_off_words)] = -math.inf
        elif begun := SIGN_OFF_BEGUN.search(line):
            rule_out(scores, sign_off_rest(begun.group(1), self.sign_off_words, self.tables))


class RepeatGuard:
    """A llama.cpp logits processor that keeps a listed skill from being named a third time, the first habit of
    template prose (`prose.repeated_skills`): once the letter names a skill `prose.MAX_MENTIONS` times, the tokens
    that would begin it again at a word's start lose `REPEAT_PENALTY` (" Terra" of Terraform, " dry" of dry
    needling), so that the model mostly writes another word; once begun anyway, the tokens that would go on toward
    it are out: for a one-word skill from its second letter where it is begun as a name ("K" may still become
    "Kafka", not "Kubernetes"), from its fifth otherwise ("comm" may become "community", not "communication"); for a
    longer one from the end of its first word ("site" may end as it likes, not go on to "site grading"). A ban
    alone, at the last moment, bent words ("dry needs", "Terraforms"). It never rules out every token left."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.tables = vocabulary_tables(llm)
        self.skills = [skill.lower() for skill in facts.profile_skills(profile) if len(skill) > 1]
        self.starts = {skill: self.start_tokens(skill) for skill in self.skills}
        self.said: set[str] = set()  # named twice already, in words the letter has finished: they stay so
        self.reader = reader

    def start_tokens(self, skill: str) -> list[int]:
        """The tokens that begin the skill at a word's start as far as the ban would: its first word, or for a
        one-word skill any start of it from its second letter (" Ku", " Kuber"); none shorter."""
        word = skill.split()[0]
        shortest = len(word) if " " in skill else 2
        return self.tables.tokens_by_part("spaced", [word[:k] for k in range(shortest, len(word) + 1)])

    def __call__(self, input_ids, scores):
        text = self.reader.text(input_ids)
        finished = text[:re.search(r"\w*\Z", text).start()]
        self.said |= {skill for skill in self.skills if skill not in self.said
                      and prose.mentions(finished, skill) >= prose.MAX_MENTIONS}
        for skill in self.said:
            scores[self.starts[skill]] -= REPEAT_PENALTY
        rule_out(scores, [token for skill in self.said for token in self.toward(skill, text)])
        return scores

    def toward(self, skill: str, text: str) -> list[int]:
        """The tokens that go on from the end of the text toward naming the skill once more."""
        begun = phrase_begun(text, skill)
        if not begun:
            return []
        first = len(skill.split()[0]) if " " in skill else 1 if text[-begun].isupper() else min(4, len(skill) - 1)
        return tokens_toward(self.tables, skill[begun:]) if begun >= first else []
