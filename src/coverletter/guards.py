"""The guards: llama.cpp logits processors that keep a letter true to its profile and in shape, and the rules
they apply. The model chooses every word; a guard only rules tokens out, or makes some likelier.

The per-token pipeline (`processors`), in the order llama.cpp calls them at each step:
1. `vocabulary.AnswerReader` turns the token ids llama.cpp passes into the letter so far. One reader is shared,
   passed to each guard explicitly; the first guard to run at a step reads the new tokens, the others find them read.
2. `FactGuard` rules out digits that would not spell a number the profile or the ad states, number words for
   other numbers, and, without an ad, the words that would cite one.
3. `NameGuard` rules out capitalized words inside a sentence that spell no word of the profile or the ad.
4. `ClaimGuard` rules out, inside the applicant's claims, the words of the ad's requirements that the applicant
   never wrote, and the company's name where the applicant would claim to work there already. It runs after the
   guards that keep only some tokens, and never rules out all that are left.
5. `steering.RepeatGuard` rules out, once the letter has named a skill twice, the tokens that would name it a third
   time.
6. `CompanyGuard` keeps, until the company's whole name is written, only tokens toward it once its first word is.
7. `steering.LengthSteering` (unless left out: "the model alone") moves line breaks off or onto the page, holds a
   closing back while the letter is short, and once it is full lets the next line be only a sign-off. The letter
   may not end before its sign-off: the end becomes a paragraph break.
8. `steering.Signature` runs last: once a sign-off line ends, it keeps only the next token of the applicant's name,
   then the end of the text. Its choice is final, so nothing after it may widen or undo it.
Each guard reads the vocabulary through tables built once per model (`vocabulary`).
"""

from __future__ import annotations

import math
import re

import numpy

from . import facts, jobad, letter, prose, rubric
from .claims import claim_so_far, claims_so_far, places_applicant
from .steering import LengthSteering, RepeatGuard, Signature
from .vocabulary import (WORD_PIECE, AnswerReader, keep_only, phrase_begun, pieces_toward, rule_out, tokens_toward,
                         vocabulary_tables)

# not "ad" everywhere: as a token it also starts names ("Adaeze") and words, and banning it changed them
# (docs/experiments.md); only where it would cite an ad ("the job ad")
AD_WORDS = {"advertisement", "advertisements", "advert", "adverts", "posting", "postings", "listing"}
AD_NOUNS = {"ad", "ads", "description", "post"}  # out only after AD_CITED's words: elsewhere they are ordinary
AD_CITED = re.compile(r"\b(?:job|your|the|this)\Z", re.IGNORECASE)
# `rubric.CREDENTIAL`'s words, by how a token's word part begins; not "master", a verb too, nor "BSc", no one token
CREDENTIAL_STARTS = ("bachelor", "mba", "phd", "doctorate", "degree", "diploma", "certif", "licen", "accredit",
                     "universit", "college", "graduat", "alumn")
# a sentence or a line is beginning: no numeral may begin it (a writer spells it out; "soon! 1️⃣" is a keycap emoji)
SENTENCE_START_SO_FAR = re.compile(r"(?:[^\s][.!?]|\n)[ \t]*\Z")
# "since", then a year something began (`rubric.moved_years`); matched before its space too, so that the lone space
# that begins a number in digits is out where no year may follow ("Since" + " " + "irem" where 12 was ruled out)
SINCE_SO_FAR = re.compile(rf"\bsince\s*[’'‘]?\s*{facts.MONTH}\Z", re.IGNORECASE)
YEAR_SO_FAR = re.compile(rf"\b{facts.YEAR}\s*\Z")  # no dash next: a range is the résumé's ("2017-2017"), not prose
SPAN_SO_FAR = re.compile(rf"\b({facts.YEAR}),?\s+{rubric.SPAN_TO}\s*\Z", re.IGNORECASE)  # not the same year next
YEAR_LEAD_SO_FAR = re.compile(rf"{rubric.YEAR_LEAD}\s*\Z", re.IGNORECASE)  # no year next: `rubric.YEAR_AS_SKILL`
PROMPT_ONLY = letter.SKILLS_IN_RESUME.lower()  # "(see the résumé)": the form's, never the applicant's words
HYPHENED = re.compile(r"[A-Za-z]+-[A-Za-z]*\Z")  # a hyphenated word being written: "post-", "post-s"
ENGLISH_ACCENTED = "résumé café naïve cliché façade"  # letters outside English's alphabet that English words use
WORKED_WITH_SO_FAR = re.compile(rf"{rubric.WORKED_WITH}( your)?\Z", re.IGNORECASE)  # "I have worked with (your)"


# --------------------------------------------------------------------------- the guards

class FactGuard:
    """A llama.cpp logits processor that keeps numbers and job ads the profile does not hold off the page:
    - a token starts or extends a number only toward one the profile or the ad states ("5 years" allows "5", never
      "50"), and a number begun is finished ("2017", never "20 years"); a number word only for such a number;
    - a number only the ad states goes only outside the applicant's claims ("you ask for 8", not "I led 8");
    - in a claim, a unit of time ("years") follows only a number the profile gives in it;
    - no year where a skill or a length goes (`rubric.YEAR_AS_SKILL`), after "since" only a year something began,
      no span that ends in the year it began ("from 2020 until 2020"), no numeral begins a sentence, and no dash
      follows a year (prose says "since 2017", not "2017-2017");
    - a credential word ("diploma") only where the profile or the ad names one of its kind; without an ad, no
      word that cites one; the prompt's "(see the résumé)" out from its first word; no double space; no letter
      outside English's alphabet that the profile does not write ("Mechanical" + "ífica").
    The rubric's `faithful` rule counts what the guards cannot see (a master's, a BSc)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        source = facts.source_text(profile)
        self.allowed = sorted(rubric.numbers(source))
        self.own = sorted(rubric.numbers(jobad.applicant_text(profile)))  # the ad's left out
        tables = vocabulary_tables(llm)
        out = number_words_but(self.allowed) | (set() if profile.job_description else AD_WORDS)
        known = facts.word_set(source)
        self.banned = tables.tokens_of(not_beginning(out, known))
        self.banned += [token for token, fraction in tables.fractions.items() if fraction not in source]  # "½"
        alphabet = set(source + ENGLISH_ACCENTED)  # "José", "résumé"; never "Mechanical" + "ífica"
        self.banned += [token for token, letters in tables.accented.items() if not set(letters) <= alphabet]
        held = rubric.credential_stems(source)
        self.banned += [token for start in CREDENTIAL_STARTS if start[:5] not in held for table in ("spaced", "pieces")
                        for token in tables.tokens_by_part(table, tables.parts_starting_with(table, start))]
        self.banned_in_claims = tables.tokens_of(not_beginning(number_words_but(self.own) - out, known))  # 3+
        self.ad_nouns = [] if profile.job_description else tables.tokens_of(AD_NOUNS)
        self.lengths = rubric.lengths_of_time(source)  # "5 years": the numbers the profile gives as lengths
        self.units = {unit: tables.tokens_of(w for w, named in rubric.TIME_UNITS.items() if named == unit)
                      for unit in set(rubric.TIME_UNITS.values())}
        self.digit_ids, self.digits, self.joins = tables.digit_ids, tables.digits, tables.joins
        # a new number: one the profile states (in a claim, the applicant's own), and none of its years after a
        # year's lead word ("I bring", "for"), each with the digit tokens that begin one
        self.choices = {claim: self.numbers_and_starts(numbers) for claim, numbers in ((False, self.allowed),
                                                                                        (True, self.own))}
        self.year_free = {claim: self.numbers_and_starts([n for n in numbers if not re.fullmatch(facts.YEAR, n)])
                          for claim, (numbers, _) in self.choices.items()}
        self.source, self.tables, self.reader = source, tables, reader

    def numbers_and_starts(self, numbers: list[str]) -> tuple[list[str], numpy.ndarray]:
        return numbers, self.leading_to(numbers)

    def leading_to(self, numbers: list[str]) -> numpy.ndarray:
        """Which digit tokens begin one of these numbers."""
        return numpy.array([any(n.startswith(d) for n in numbers) for d in self.digits], dtype=bool)

    def __call__(self, input_ids, scores):
        scores[self.banned] = -math.inf
        text = self.reader.text(input_ids)
        if AD_CITED.search(text):  # "the job", "your": not "ad" or "description" next without an ad
            scores[self.ad_nouns] = -math.inf
        if begun := phrase_begun(text, PROMPT_ONLY):  # the prompt's word for skills left to the résumé
            rule_out(scores, tokens_toward(self.tables, PROMPT_ONLY[begun:]))
        run = re.search(r"\d[\d,.]*$", text)
        before = text[:run.start()] if run else text
        claim = claims_so_far(before)
        if claim and not run:
            scores[self.banned_in_claims] = -math.inf
        if claim and (written := rubric.numbers(re.search(r"\S*$", text).group(0))):
            for unit, tokens in self.units.items():  # "44 years of research" where the profile has 44 studies
                if not {(n, unit) for n in written} <= self.lengths:
                    scores[tokens] = -math.inf
        year_lead = YEAR_LEAD_SO_FAR.search(before)  # "I bring 2015", "for 2019": a year where a skill or length goes
        numbers, allowed = (self.year_free if year_lead else self.choices)[claim]
        if SINCE_SO_FAR.search(before):  # "Since 2014" where 2014 is the diploma's year and the job began in 2017
            begun = rubric.years_begun(self.source, letter.sentence_so_far(before))
            numbers = [n for n in numbers if n in begun]  # and not a number that is no year ("MLIS since 12")
            allowed = self.leading_to(numbers)
        if span := SPAN_SO_FAR.search(before):  # "from 2020 until" 2020: a span that ends where it began
            numbers = [n for n in numbers if n != span.group(1)]
            allowed = self.leading_to(numbers)
        if SENTENCE_START_SO_FAR.search(text):
            allowed = numpy.zeros_like(allowed)
        if YEAR_SO_FAR.search(text):
            rule_out(scores, self.tables.dashes)
        if run:  # a token starting with a digit goes on this number: toward the rest of one the profile states
            written = run.group(0).replace(",", "")
            rest = [n[len(written):] for n in numbers if n.startswith(written)]
            allowed = numpy.where(self.joins, self.leading_to(rest), allowed)
            going_on = self.digit_ids[self.joins & allowed]
            if written.rstrip(".") not in numbers and len(going_on):  # "20" of "2017": 2017, not "20 years"
                keep_only(scores, going_on)
                return scores
        scores[self.digit_ids[~allowed]] = -math.inf
        self.leave_no_hole(text, allowed, scores)
        return scores

    def leave_no_hole(self, text: str, allowed: numpy.ndarray, scores) -> None:
        """A number in digits begins with a lone space token: none where no number may follow, and after one a
        number that may, so that a number ruled out leaves no double space ("I have  years")."""
        if re.search(r"\S \Z", text):
            if len(going := self.digit_ids[allowed]):
                keep_only(scores, going)
            else:
                rule_out(scores, self.tables.space_led)
        elif not allowed.any():
            scores[self.tables.blank] = -math.inf


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
    ad states (`jobad.ad_only_stems`: "I ran hospitality teams" where only the ad says hospitality). "You ask for
    hospitality" stays free. A word is known by its stem as the rubric's are: a long one by its first seven letters,
    a short one whole. A capitalized word is out from its first token where the name guard could only finish it as
    such a word (" BC" of "BCACP"). Where the claim has just placed the applicant ("I report at"), the company's
    one-word name is out the same way, unless their own words place them there (`rubric.employer_words`). It never
    rules out every token left: what it cannot keep off, the rubric counts."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.tables = vocabulary_tables(llm)
        words, names = jobad.ad_only_stems(profile)
        self.words, self.names = ({s for s in stems if s.isalnum()} for stems in (words, names))
        self.hyphened = {s for s in words if "-" in s}  # "post-su" of "post-surgical": out after "post-"
        names, stems, employer = rubric.name_words(profile), self.words | self.names, rubric.employer_words(profile)
        self.doomed = doomed_starts(names, {word for word in names if jobad.stem(word) in stems})
        self.spaced, self.joined = (self.word_starts(table) for table in ("spaced", "pieces"))  # " X", "X"
        self.employer = doomed_starts(names, {word for word in names if word.startswith(tuple(employer))})
        self.employer_words = employer  # in lower case too: "what I do at ledgerlight"
        others = facts.word_set(facts.source_text(profile)) - employer  # "green" of "green chemistry" stays free
        lower = {start for start in doomed_starts(others, employer) if len(start) >= 4 or start in employer}
        self.employer_spaced = [*self.capitals(self.tables.tokens_by_part("spaced", self.employer)),
                                *self.lower_case(self.tables.tokens_by_part("spaced", lower))]
        placed = rubric.placed_there(profile)  # "I have worked with your team" is theirs to say
        self.you = [] if placed else self.tables.spaced.get("you", [])
        people = {word[:k] for word in rubric.YOUR_PEOPLE for k in range(3, len(word) + 1)}
        self.your_people = [] if placed else self.lower_case(self.tables.tokens_by_part("spaced", people))
        self.guarding = bool(stems or employer or self.you)  # an ad whose every requirement they wrote, no company
        self.reader = reader

    def word_starts(self, table: str) -> list[int]:
        """The tokens of a table that begin an ad-only word: any that begin one of its words, and of its names those
        with a capital."""
        names = [*self.spelling(table, "", self.names), *self.tables.tokens_by_part(table, self.doomed)]
        return [*self.spelling(table, "", self.words), *self.capitals(names)]

    def capitals(self, tokens: list[int]) -> list[int]:
        return [token for token in tokens if token in self.tables.capital_set]

    def lower_case(self, tokens: list[int]) -> list[int]:
        return [token for token in tokens if token not in self.tables.capital_set]

    def spelling(self, table: str, written: str, stems: set[str]) -> list[int]:
        """The tokens of a table that take a word begun as `written` to one of these stems."""
        tokens = []
        for s in stems:
            rest = s[len(written):]
            if not s.startswith(written) or not rest:
                continue
            if len(s) == jobad.STEM_LETTERS:  # a long word: any word that starts so
                tokens += self.tables.tokens_by_part(table, self.tables.parts_starting_with(table, rest))
            else:  # a short one whole, or with the plural s the stem drops
                tokens += self.tables.tokens_by_part(table, (rest, rest + "s", rest + "ss"))
        return tokens

    def __call__(self, input_ids, scores):
        if not self.guarding:
            return scores
        text = self.reader.text(input_ids)
        run = re.search(r"[A-Za-z0-9]+\Z", text)
        claim = claim_so_far(text)  # "I have run", or "Working with" opening a sentence: the applicant's
        out = [*self.spaced, *([] if run else self.joined)] if claim is not None else []  # a new word
        if claim is not None and places_applicant(claim):  # " Green" starts a new word whatever came before
            out += self.employer_spaced
        if with_you := WORKED_WITH_SO_FAR.search(text):  # worked with you, or your team: a claim the rubric counts
            out += self.your_people if with_you.group(1) else self.you
        if (joined := HYPHENED.search(text)) and claims_so_far(text[:joined.start()]):
            out += self.spelling("pieces", joined.group(0).lower(), self.hyphened)
        before = claim_so_far(text[:run.start()]) if run else None
        if before is not None:  # the word being written, a name if capital
            written, capital = run.group(0).lower(), run.group(0)[0].isupper()
            out += self.spelling("pieces", written, self.words | (self.names if capital else set()))
            doomed = self.doomed | (self.employer if places_applicant(before) else set())
            if capital:
                rests = {d[len(written):] for d in doomed if d.startswith(written)} - {""}
                out += self.tables.tokens_by_part("pieces", rests)
            elif places_applicant(before) and len(written) >= 3:  # "ledg" on toward "ledgerlight"
                out += [t for w in self.employer_words if w.startswith(written) for t in pieces_toward(
                    self.tables, w[len(written):])]
        rule_out(scores, out)
        return scores


def doomed_starts(names: set[str], out: set[str]) -> set[str]:
    """The lower-case starts of a capitalized word that the name guard, which lets it grow only into one of the
    `names`, would let grow only into one of the `out` names: "bc" of "BCACP" and "rabbitm" of "RabbitMQ", not "r",
    which may still become "Redfern"."""
    kept = {word[:k] for word in names - out for k in range(1, len(word) + 1)}
    return {word[:k] for word in out for k in range(1, len(word) + 1)} - kept


class NameGuard:
    """A llama.cpp logits processor that keeps names the profile does not hold off the page, read as the rubric
    reads them: a capitalized word inside a sentence must spell a word of the profile or the ad, in any case, or
    one that any letter may capitalize (`rubric.name_words`). "Git" may not grow into "GitHub", nor "Moder" into
    "Modered"; the greeting line and the first word of a sentence are free, unless it is an acronym ("ICSS", as
    the rubric reads it). Three capitals or more spell only a word the profile writes so (`prose.SHOUTED`)."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.tables = vocabulary_tables(llm)
        self.words = rubric.name_words(profile)
        prefixes = {word[:k] for word in self.words for k in range(1, len(word) + 1)}
        written = prose.written_words(profile) | {"HR", "IT"}  # in the profile's own case: "MLflow", "XCTest"
        self.written_begun = {word[:k] for word in written for k in range(1, len(word) + 1)}
        given = prose.given_capitals(profile)  # in capitals, only the profile's own: "HPLC", never "VET TECH"
        self.capitals_begun = {word[:k] for word in given for k in range(1, len(word) + 1)} | {
            start for start in self.written_begun if len(start) >= 2 and start.isupper()}  # "ML" of "MLflow"
        fits = numpy.array([(word in self.words if whole else word in prefixes) and (not acronym or (
            word.upper() in written if whole else word.upper() in self.capitals_begun))  # " KI" begins no "KPIs"
            for word, whole, acronym in zip(self.tables.capital_words, self.tables.capital_whole,
                                            self.tables.capital_acronym)], dtype=bool)
        self.out_spaced = self.tables.capitals[~fits & self.tables.capital_spaced]  # " GitHub": a new word
        self.out_joined = self.tables.capitals[~fits & ~self.tables.capital_spaced]  # "GitHub" after "/" or "-"
        acronym, spaced = ~fits & self.tables.capital_acronym, self.tables.capital_spaced  # a name even first in a
        self.acronyms_spaced = self.tables.capitals[acronym & spaced]  # sentence or after "(": "(ICSS)"
        self.acronyms_joined = self.tables.capitals[acronym & ~spaced]
        upper = self.tables.upper_parts()
        shouting = {lead: [token for token, part, own in upper if own == lead and len(part) >= 3
                           and part not in self.capitals_begun] for lead in (True, False)}
        self.shouting = {True: numpy.array(shouting[True], dtype=int),  # a word begun: only a spaced one is new
                         False: numpy.array(shouting[True] + shouting[False], dtype=int)}
        self.upper_joined = [(token, part) for token, part, own in upper if not own]
        tables, by_part = self.tables, {}  # capitals that go on a word, as written ("Hub", "AN"): "Git" + "Hub"
        for token, word, spaced, acronym in zip(tables.capitals, tables.capital_words, tables.capital_spaced,
                                                tables.capital_acronym):
            if not spaced:
                by_part.setdefault(word.upper() if acronym else word.capitalize(), []).append(token)
        self.capitals_on = numpy.array([token for tokens in by_part.values() for token in tokens], dtype=int)
        self.capitals_going = {}  # a word begun -> the capitals that go on toward a profile word as it writes it
        for word in written:
            for k in (k for k in range(1, len(word)) if word[k].isupper()):
                self.capitals_going.setdefault(word[:k], set()).update(
                    token for j in range(k + 1, len(word) + 1) for token in by_part.get(word[k:j], ()))
        self.reader = reader

    def __call__(self, input_ids, scores):
        text = self.reader.text(input_ids)
        if "\n" not in text:
            return scores
        run = re.search(r"[A-Za-z0-9_]+\Z", text)
        written = run.group(0) if run else ""
        capitals = written.isalpha() and written.isupper()  # " RE" + "CRUITMENT": no word shouted, nor bent
        shouted = capitals and len(written) >= 2 and written not in self.capitals_begun  # "UN" + "iveRSIDAD"
        if run and written[0].isupper() and not shouted and not rubric.starts_sentence(text[:run.start()]):
            self.spell(written.lower(), scores)  # not toward a word in capitals: "UN" ends, it is no "UNIVERSIDAD"
        scores[self.acronyms_spaced if rubric.starts_sentence(text + " ") else self.out_spaced] = -math.inf
        if not run:
            scores[self.acronyms_joined if rubric.starts_sentence(text) else self.out_joined] = -math.inf
        rule_out(scores, self.shouting[bool(run)])
        if capitals:
            rule_out(scores, [token for token, part in self.upper_joined
                              if written + part not in self.capitals_begun]  # "K" + "I" begins no "KPIs"
                     + (self.tables.lower_pieces if shouted else []))
        if run:  # no capital inside a word but as the profile writes it: "Git" + "Hub", never "U" + "Ni"
            going = list(self.capitals_going.get(written, ()))
            rule_out(scores, self.capitals_on[~numpy.isin(self.capitals_on, going)] if going else self.capitals_on)
        return scores

    def spell(self, written: str, scores) -> None:
        """Inside a capitalized word: only tokens that go on toward one of the words, and an end only to a whole one."""
        going = [token for word in self.words if word.startswith(written) and word != written
                 for token in pieces_toward(self.tables, word[len(written):])]
        if not going and written not in self.words:  # begun where the guard could not see it: the rubric's to judge
            return
        keep_only(scores, going, among=self.tables.letters if written in self.words else slice(None))


class CompanyGuard:
    """A llama.cpp logits processor that has the letter name the company whole at least once, as the rubric's
    `company` rule asks: until it has, where the letter begins the company's name by its distinctive first word
    ("Cobaltline" of Cobaltline Distribution, `rubric.company_keys`), the next token goes on toward the whole name
    (" Distribution"). Small models shorten a long name from its first mention. A name whose first word is common
    ("University of Kingsmere") is left alone, and so is a step where no token toward the name is left."""

    def __init__(self, llm, profile: letter.Profile, reader: AnswerReader):
        self.llm, self.tables = llm, vocabulary_tables(llm)
        keys = rubric.company_keys(profile.company_name)
        self.spelling, self.first = keys[0], len(keys[-1]) if len(keys) > 1 else None
        self.name = self.spelling.lower()
        self.reader, self.pieces = reader, {}  # token: its leading space and word part, as detokenized once

    def __call__(self, input_ids, scores):
        text = self.reader.text(input_ids)
        if self.first is None or self.name in text.lower():
            return scores
        begun = phrase_begun(text, self.name)
        if begun >= self.first and text[-begun].isupper():
            rest = self.spelling[begun:]
            going = [t for t in tokens_toward(self.tables, rest.lower()) if numpy.isfinite(scores[t])
                     and self.spells(t, rest)]
            if going:
                keep_only(scores, going)
        return scores

    def spells(self, token: int, rest: str) -> bool:
        """Whether the token writes on the name as the profile spells it: " Physiotherapy", not "theraPy"."""
        if token not in self.pieces:
            space, part, _ = WORD_PIECE.match(self.llm.detokenize([token]).decode("utf-8", errors="ignore")).groups()
            self.pieces[token] = (" " if space else "") + part
        return rest.startswith(self.pieces[token])


# --------------------------------------------------------------------------- the pipeline

def processors(llm, profile: letter.Profile, steer_length: bool = True) -> list:
    """What every letter is decoded with: the guards on facts and names, the length steering unless it is left
    out, and the signature last, whose choice is final. They read the letter through one `AnswerReader`."""
    reader = AnswerReader(llm)
    steering = [LengthSteering(llm, profile, reader)] if steer_length else []
    return [FactGuard(llm, profile, reader), NameGuard(llm, profile, reader), ClaimGuard(llm, profile, reader),
            RepeatGuard(llm, profile, reader), CompanyGuard(llm, profile, reader), *steering,
            Signature(llm, profile, reader)]
