"""The guards: llama.cpp logits processors that keep a letter true to its profile and in shape, and the rules
they apply. The model chooses every word; a guard only rules tokens out, or makes some likelier.

The per-token pipeline (`processors`), in the order llama.cpp calls them at each step:
1. `AnswerReader` turns the token ids llama.cpp passes into the letter so far. One reader is shared, passed to each
   guard explicitly; the first guard to run at a step reads the new tokens, the others find them read.
2. `FactGuard` rules out digits that would not spell a number the profile or the ad states, number words for
   other numbers, and, without an ad, the words that would cite one.
3. `NameGuard` rules out capitalized words inside a sentence that spell no word of the profile or the ad.
4. `ClaimGuard` rules out, inside the applicant's claims, the words of the ad's requirements that the applicant
   never wrote. It runs after the guards that keep only some tokens, and never rules out all that are left.
5. `LengthSteering` (unless left out: "the model alone") moves line breaks off or onto the page, holds a closing
   back while the letter is short, and once it is full lets the next line be only a sign-off. The letter may not
   end before its sign-off: the end becomes a paragraph break.
6. `Signature` runs last: once a sign-off line ends, it keeps only the next token of the applicant's name, then
   the end of the text. Its choice is final, so nothing after it may widen or undo it.
Each guard reads the vocabulary through tables built once per model (`vocabulary`).
"""

from __future__ import annotations

import math
import re

import numpy

from . import facts, letter, rubric
from .vocabulary import end_tokens, keep_only, line_break_tokens, pieces_toward, rule_out, vocabulary_tables

LINE_BREAK_PENALTY = 1000.0  # logit off line breaks while a paragraph should go on: a ban (docs/experiments.md)
LINE_END_BONUS = 4.0  # logit onto line breaks when a line should end
# First words of a sign-off or of the thanks that close a letter; not "With": body sentences start with it too
SIGN_OFF_STARTS = sorted({phrase.split()[0].capitalize() for phrase in letter.SIGN_OFFS} - {"With"})
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
SHORTEST_CLOSING = 12  # "I would love to talk about my SQL. Thank you!", the sign-off and the name: the least

# not "ad" everywhere: as a token it also starts names ("Adaeze") and words, and banning it changed them
# (docs/experiments.md); only where it would cite an ad ("the job ad")
AD_WORDS = {"advertisement", "advertisements", "advert", "adverts", "posting", "postings", "listing"}
AD_NOUNS = {"ad", "ads", "description", "post"}  # out only after AD_CITED's words: elsewhere they are ordinary
AD_CITED = re.compile(r"\b(?:job|your|the|this)\Z", re.IGNORECASE)


# --------------------------------------------------------------------------- the answer and the guards

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


def claims_so_far(text: str) -> bool:
    """Whether the clause being written is the applicant's claim about themselves, as `rubric.claim_clauses`
    reads one: in the first person, and not about the ad, a wish or a lack."""
    clause = rubric.CLAUSE_BREAK.split(letter.sentence_so_far(text))[-1]
    return bool(rubric.FIRST_PERSON.search(clause)) and not rubric.NOT_A_CLAIM.search(clause)


class FactGuard:
    """A llama.cpp logits processor that keeps numbers and job ads the profile does not hold off the page: a
    token may start or extend a number only toward one that the profile or the ad states ("5 years" allows "5",
    never "50" or "12"), and a number begun must be finished ("2017" allows "2017", never "20 years"); a number
    word only for such a number; and without an ad the words that cite one ("advertisement", "posting", ...) are
    out. A number that only the ad states, in digits or in words, goes only where the clause so far is not the
    applicant's claim, as the rubric reads claims ("you ask for 8", not "I led a team of 8" nor "I have three
    years"). In a claim, "years" follows only a number the profile gives as years ("44 years" from 44 studies is
    out). The model still chooses every word; the rubric's `faithful` rule counts what the guards cannot see
    (degrees, names at the start of a sentence)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        source = facts.source_text(profile)
        self.allowed = sorted(rubric.numbers(source))
        self.own = sorted(rubric.numbers(rubric.applicant_text(profile)))  # the ad's left out
        tables = vocabulary_tables(llm)
        out = number_words_but(self.allowed) | (set() if profile.job_description else AD_WORDS)
        known = facts.word_set(source)
        self.banned = tables.tokens_of(not_beginning(out, known))
        self.banned += [token for token, fraction in tables.fractions.items() if fraction not in source]  # "½"
        self.banned_in_claims = tables.tokens_of(not_beginning(number_words_but(self.own) - out, known))  # 3+
        self.ad_nouns = [] if profile.job_description else tables.tokens_of(AD_NOUNS)
        self.lengths = rubric.lengths_of_time(source)  # "5 years": the numbers the profile gives as years
        self.years = tables.tokens_of(("year", "years", "yrs"))
        self.digit_ids, self.digits, self.joins = tables.digit_ids, tables.digits, tables.joins
        self.starts = self.leading_to(self.allowed)  # a new number: the start of one the profile states
        self.own_starts = self.leading_to(self.own)
        self.reader = reader

    def leading_to(self, numbers: list[str]) -> numpy.ndarray:
        """Which digit tokens begin one of these numbers."""
        return numpy.array([any(n.startswith(d) for n in numbers) for d in self.digits], dtype=bool)

    def __call__(self, input_ids, scores):
        scores[self.banned] = -math.inf
        text = self.reader.text(input_ids)
        if AD_CITED.search(text):  # "the job", "your": not "ad" or "description" next without an ad
            scores[self.ad_nouns] = -math.inf
        run = re.search(r"\d[\d,.]*$", text)
        claim = claims_so_far(text[:run.start()] if run else text)
        if claim and not run:
            scores[self.banned_in_claims] = -math.inf
        if claim and not rubric.numbers(re.search(r"\S*$", text).group(0)) <= self.lengths:
            scores[self.years] = -math.inf  # "44 years of research" where the profile has 44 studies
        numbers, allowed = (self.own, self.own_starts) if claim else (self.allowed, self.starts)
        if run:  # a token starting with a digit goes on this number: toward the rest of one the profile states
            written = run.group(0).replace(",", "")
            rest = [n[len(written):] for n in numbers if n.startswith(written)]
            allowed = numpy.where(self.joins, self.leading_to(rest), allowed)
            going_on = self.digit_ids[self.joins & allowed]
            if written.rstrip(".") not in numbers and len(going_on):  # "20" of "2017": 2017, not "20 years"
                keep_only(scores, going_on)
                return scores
        scores[self.digit_ids[~allowed]] = -math.inf
        return scores


def not_beginning(words: set[str], known: set[str]) -> list[str]:
    """These words, less those that begin a word the profile uses: a token may also start a longer word ("ten" of
    "tennis")."""
    return [word for word in words if not any(k.startswith(word) for k in known)]


def number_words_but(numbers: list[str]) -> set[str]:
    """The number words ("three", "twelve") for numbers other than these; not "one", a pronoun as often."""
    return {word for word, value in rubric.NUMBER_WORDS.items() if word != "one" and str(value) not in numbers}


class ClaimGuard:
    """A llama.cpp logits processor that keeps the ad's requirements out of the applicant's claims, as the rubric
    reads a borrowed claim: inside a clause that is the applicant's claim (`claims_so_far`), no word that only the
    ad states (`rubric.ad_only_stems`: "I ran hospitality teams" where only the ad says hospitality). "You ask for
    hospitality" stays free. A word is known by its stem as the rubric's are: a long one by its first seven letters,
    a short one whole. A capitalized word is out from its first token where the name guard could only finish it as
    such a word (" BC" of "BCACP"). It never rules out every token left: what it cannot keep off, the rubric counts."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.tables = vocabulary_tables(llm)
        self.words, self.names = ({s for s in stems if s.isalnum()} for stems in rubric.ad_only_stems(profile))
        self.doomed = doomed_starts(profile, self.words | self.names)
        capitals = set(self.tables.capitals.tolist())
        self.spaced, self.joined = (self.word_starts(table, capitals) for table in ("spaced", "pieces"))  # " X", "X"
        self.guarding = bool(self.words | self.names)  # an ad whose every requirement the applicant wrote: nothing
        self.reader = reader

    def word_starts(self, table: str, capitals: set[int]) -> list[int]:
        """The tokens of a table that begin an ad-only word: any that begin one of its words, and of its names those
        with a capital."""
        names = [*self.spelling(table, "", self.names), *self.tables.tokens_by_part(table, self.doomed)]
        return [*self.spelling(table, "", self.words), *(token for token in names if token in capitals)]

    def spelling(self, table: str, written: str, stems: set[str]) -> list[int]:
        """The tokens of a table that take a word begun as `written` to one of these stems."""
        tokens = []
        for s in stems:
            rest = s[len(written):]
            if not s.startswith(written) or not rest:
                continue
            if len(s) == rubric.STEM_LETTERS:  # a long word: any word that starts so
                tokens += self.tables.tokens_by_part(table, self.tables.parts_starting_with(table, rest))
            else:  # a short one whole, or with the plural s the stem drops
                tokens += self.tables.tokens_by_part(table, (rest, rest + "s", rest + "ss"))
        return tokens

    def __call__(self, input_ids, scores):
        if not self.guarding:
            return scores
        text = self.reader.text(input_ids)
        run = re.search(r"[A-Za-z0-9]+\Z", text)
        out = [*self.spaced, *([] if run else self.joined)] if claims_so_far(text) else []  # a new word
        if run and claims_so_far(text[:run.start()]):  # the word being written, a name if it began with a capital
            written, capital = run.group(0).lower(), run.group(0)[0].isupper()
            out += self.spelling("pieces", written, self.words | (self.names if capital else set()))
            if capital:
                rests = {d[len(written):] for d in self.doomed if d.startswith(written)} - {""}
                out += self.tables.tokens_by_part("pieces", rests)
        rule_out(scores, out)
        return scores


def doomed_starts(profile: letter.Profile, stems: set[str]) -> set[str]:
    """The lower-case starts of a capitalized word that the name guard would let grow only into a word with one of
    these stems: "bc" of "BCACP" and "rabbitm" of "RabbitMQ", not "r", which may still become "Redfern"."""
    names = rubric.name_words(profile)
    borrowed = {word for word in names if rubric.stem(word) in stems}
    kept = {word[:k] for word in names - borrowed for k in range(1, len(word) + 1)}
    return {word[:k] for word in borrowed for k in range(1, len(word) + 1)} - kept


class NameGuard:
    """A llama.cpp logits processor that keeps names the profile does not hold off the page, read as the rubric
    reads them: a capitalized word inside a sentence must spell a word of the profile or the ad, in any case, or
    one that any letter may capitalize (`rubric.name_words`). "Git" may not grow into "GitHub", nor "Moder" into
    "Modered"; the greeting line and the first word of a sentence are free."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.tables = vocabulary_tables(llm)
        self.words = rubric.name_words(profile)
        prefixes = {word[:k] for word in self.words for k in range(1, len(word) + 1)}
        fits = numpy.array([word in self.words if whole else word in prefixes
                            for word, whole in zip(self.tables.capital_words, self.tables.capital_whole)], dtype=bool)
        self.out_spaced = self.tables.capitals[~fits & self.tables.capital_spaced]  # " GitHub": a new word
        self.out_joined = self.tables.capitals[~fits & ~self.tables.capital_spaced]  # "GitHub" after "/" or "-"
        self.reader = reader

    def __call__(self, input_ids, scores):
        text = self.reader.text(input_ids)
        if "\n" not in text:
            return scores
        run = re.search(r"[A-Za-z0-9_]+\Z", text)
        if run and run.group(0)[0].isupper() and not rubric.starts_sentence(text[:run.start()]):
            self.spell(run.group(0).lower(), scores)
        if not rubric.starts_sentence(text + " "):
            scores[self.out_spaced] = -math.inf
        if not run and not rubric.starts_sentence(text):
            scores[self.out_joined] = -math.inf
        return scores

    def spell(self, written: str, scores) -> None:
        """Inside a capitalized word: only tokens that go on toward one of the words, and an end only to a whole one."""
        going = [token for word in self.words if word.startswith(written) and word != written
                 for token in pieces_toward(self.tables, word[len(written):])]
        if not going and written not in self.words:  # begun where the guard could not see it: the rubric's to judge
            return
        keep_only(scores, going, among=self.tables.letters if written in self.words else slice(None))


# --------------------------------------------------------------------------- the length: its rules and its steering


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
        self.closing_words[""] += tables.tokens_of(word.lower() for word in SIGN_OFF_STARTS)  # nor sign off
        self.thanks = tables.tokens_of(CLOSING_STARTS[""])
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
    name there, sign as someone else ("Ibid."), or go on."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        tokens = llm.tokenize(profile.name.encode(), add_bos=False, special=False)
        self.next = {llm.detokenize(tokens[:k]): token for k, token in enumerate(tokens)}  # name so far -> next
        self.next[llm.detokenize(tokens)] = llm.token_eos()
        self.name = profile.name.lower()
        self.reader = reader

    def __call__(self, input_ids, scores):
        *_, sign_off, line = [b"", *self.reader.read_up_to(input_ids).split(b"\n")]  # bytes, as the name's tokens
        sign_off = sign_off.decode("utf-8", errors="ignore")
        if line in self.next and letter.is_sign_off(sign_off) and self.name not in sign_off.lower():
            token = self.next[line]
            scores[:] = -math.inf
            scores[token] = 0.0
        return scores


# --------------------------------------------------------------------------- the pipeline

def processors(llm, profile: letter.Profile, steer_length: bool = True) -> list:
    """What every letter is decoded with: the guards on facts and names, the length steering unless it is left
    out, and the signature last, whose choice is final. They read the letter through one `AnswerReader`."""
    reader = AnswerReader(llm)
    steering = [LengthSteering(llm, profile, reader)] if steer_length else []
    return [FactGuard(llm, profile, reader), NameGuard(llm, profile, reader), ClaimGuard(llm, profile, reader),
            *steering, Signature(llm, profile, reader)]
