"""How a letter is written, beside what it says: the habits of template prose that a careful writer never has,
and how much a set of letters shares.

- a skill named three or more times (`repeated_skills`);
- a typed skill used as a possession, "my HPLC", "my lab safety" (`possessed_skills`);
- one two-word opening starting sentence after sentence, "I would ... I would ..." (`repeated_opening`);
- grammar: the user's phrases where they do not fit ("I can survey design"), a/an before the wrong sound, a name
  joined to itself, words in capitals the profile never writes so, hashtags, letters of another alphabet
  (`misplaced_phrases`);
- across letters: sentences that recur for different applicants (`boilerplate`), sentences of 8+ words that two
  letters share (`shared_sentences`), and distinct-n, the share of n-grams that are new (`distinct_n`).

`rubric` reads the first three as rules, and the grammar as one; the written corpus (`data.letters`) is held to all
of them.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict

from . import letter
from .facts import CREDENTIAL, DATE_RANGE, DEGREE, WORD, YEAR, profile_skills, resume_role_parts, source_text

# "my HPLC experience" is how a writer speaks of a skill they own; "my HPLC" is a template's
OWNED_BY_WHAT_FOLLOWS = re.compile(
    r"\s+(?:experience|skills?|background|knowledge|expertise|training|work|abilit(?:y|ies)|practice|"
    r"qualifications?|studies|projects?|record)\b", re.IGNORECASE)
DURATION = re.compile(r"^(?:\d|one|two|three|four|five|six|seven|eight|nine|ten|several|many)\b", re.IGNORECASE)
OPENING_SHARE = 0.3  # one opening over this share of the sentences, and at least OPENING_SENTENCES of them
OPENING_SENTENCES = 3
MAX_MENTIONS = 2
SHOUTED = re.compile(r"\b[A-Z][A-Z&]{2,}(?=s?\b)")  # three capitals or more: an acronym, or a word shouted
BENT = re.compile(r"\b(?=[\w&]*[a-z])(?=[\w&]*[A-Z]{2})[A-Za-z][\w&]*")  # "MecHANICAL", "UNiversidad": a word
# in lower case and in capitals at once, where the profile writes no such word ("SwiftUI", "MLflow", "iOS")
# a word begun in English and ended in another alphabet: "Mechanicalífica", where the profile has no such word (a
# writer's loanword, "kōrero" or "pâtissier", begins in its own language)
ENDED_ABROAD = re.compile(r"\b[A-Za-z]{4,}(?:(?![A-Za-z])[^\W\d_])\w*")
HASHTAG = re.compile(r"(?<![\w&])#[A-Za-z]\w*")  # "#Foxglove #Veterinary": a post's, never a letter's ("C#" is a name)


def mentions(text: str, phrase: str) -> int:
    return len(mention_pattern(phrase).findall(text))


@functools.cache
def mention_pattern(phrase: str) -> re.Pattern:  # compiled once: the repeat guard counts at every token
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)


def repeated_skills(text: str, skills: list[str]) -> list[str]:
    """The skills the letter names more than twice ('lab safety' four times)."""
    return [skill for skill in skills if mentions(text, skill) > MAX_MENTIONS]


def possessed_skills(text: str, skills: list[str]) -> list[str]:
    """'my <skill>' where the skill is a thing or an activity: 'my HPLC', not 'my HPLC experience', and not
    'my 4 years of payroll' or 'my BSN' (a length of time and a degree are owned)."""
    found = []
    for skill in skills:
        if (DURATION.match(skill) or OWNED_BY_WHAT_FOLLOWS.match(" " + skill.split()[-1])  # "my knife skills"
                or CREDENTIAL.search(skill) or DEGREE.fullmatch(skill)):
            continue
        for match in re.finditer(rf"\bmy\s+(?:own\s+)?{re.escape(skill)}(?!\w)", text, flags=re.IGNORECASE):
            if not OWNED_BY_WHAT_FOLLOWS.match(text, match.end()):
                found.append(f"my {skill}")
    return list(dict.fromkeys(found))


def body_sentences(text: str) -> list[str]:
    """The sentences between the greeting and the sign-off, a paragraph's lines read as one (a few words each)."""
    lines = text.strip().split("\n")[1:]
    end = next((i for i, line in enumerate(lines) if letter.is_sign_off(line)), len(lines))
    body = re.sub(r"(?<!\n)\n(?!\n)", " ", "\n".join(lines[:end]))
    return [sentence for sentence in letter.sentences(body) if len(sentence.split()) >= 3]


def opening(sentence: str) -> str:
    return " ".join(re.findall(r"[\w'’]+", sentence.lower())[:2])


def repeated_opening(text: str) -> str | None:
    """The two-word opening that starts three or more sentences and over 30% of them ('i would'), if any."""
    said = body_sentences(text)
    if not said:
        return None
    first, count = Counter(map(opening, said)).most_common(1)[0]
    return first if count >= OPENING_SENTENCES and count / len(said) > OPENING_SHARE else None


def habits(text: str, skills: list[str]) -> dict[str, list[str]]:
    """Each habit of template prose the letter has, with what shows it (empty lists: none)."""
    first = repeated_opening(text)
    return {"repeated_skill": repeated_skills(text, skills), "possessed_skill": possessed_skills(text, skills),
            "repeated_opening": [first] if first else []}


# --------------------------------------------------------------------------- grammar

# -ing words that usually name a field ("marketing campaigns"), not an action with an object ("leading a line")
NOMINAL_ING = set("""accounting advertising baking banking bookkeeping budgeting catering coaching consulting cooking
costing debugging drawing editing engineering forecasting fundraising housekeeping landscaping lighting logging
manufacturing marketing merchandising modeling modelling monitoring networking nursing onboarding packaging painting
planning plumbing pricing printing profiling programming publishing purchasing recruiting scheduling sourcing
staffing storytelling testing training tutoring welding wiring writing copywriting clothing building opening
closing ordering cleaning handling reading positioning messaging""".split())
NOUN_SLOT = re.compile(r"\b(?:a|an|the|my|our|your|their|this|that|use|uses|used|using)\s+$", re.IGNORECASE)
VERB_SLOT = re.compile(r"\b(?:can|could|will|would|how to|able to|want to|like to|love to|learn to)\s+$",
                       re.IGNORECASE)
CLAUSE_SLOT = re.compile(r"\b(?:of|for|about|my|the|a|an|with|in|on|include|includes|including)\s+$", re.IGNORECASE)
# a / an before a word, except where the sound is not the letter ("a university", "an hour", "an Hons": honours)
A_BEFORE_VOWEL = re.compile(r"\ba\s+(?!(?:uni|use|usu|usa|ure|uti|eu|one|once|ewe)\w*)[aeiou]\w*", re.IGNORECASE)
AN_BEFORE_CONSONANT = re.compile(r"\ban\s+(?:(?!(?:hour|honest|honou?r|heir)\w*|hons\b)[b-df-hj-np-tv-z][a-z]|"
                                 r"(?:uni|use|usa|usu|ure|uti|eu)\w*|one\b)", re.IGNORECASE)
# "Since 2 years in B2B prospecting", "since 12": "since" takes a year
SINCE_NO_YEAR = re.compile(rf"\bsince\s+(?!{YEAR}\b)\d[\d,.]*", re.IGNORECASE)
# a name joined to itself: "Qualtrics as well as Qualtrics", where the model wanted a second tool it could not name
ECHOED_NAME = re.compile(r"\b([A-Z][\w+#.-]*(?: [A-Z][\w+#.-]*){0,3}) (?:and|or|as well as|and also|&) \1\b")


def is_action(skill: str) -> bool:
    """'leading a line of eight cooks' is an action (a verb with its object); 'menu costing' is a thing."""
    words = skill.split()
    return len(words) >= 2 and words[0].endswith("ing") and len(words[0]) > 4 and words[0] not in NOMINAL_ING


def misplaced_phrases(text: str, profile: letter.Profile) -> list[str]:
    """The user's phrases that the letter puts where they do not fit, a/an before the wrong sound, and a name joined
    to itself."""
    lowered = text.lower()
    problems = []
    for skill in profile_skills(profile):
        for match in re.finditer(re.escape(skill), lowered):
            before = lowered[max(0, match.start() - 20): match.start()]
            slot = NOUN_SLOT if is_action(skill) else VERB_SLOT
            if slot.search(before):
                problems.append(f"{before.split()[-1]} + {skill}")
    for reason in letter.sentences(profile.reasons):
        start = " ".join(reason.lower().split()[:4])
        if not start.startswith(("i ", "i'", "my ")):
            continue  # only a clause in the first person breaks when it follows "because of" or "my"
        for match in re.finditer(re.escape(start), lowered):
            if CLAUSE_SLOT.search(lowered[max(0, match.start() - 20): match.start()]):
                problems.append(f"clause after a preposition: {start}")
    problems += [f"résumé dates copied: {m.group(0)}" for m in DATE_RANGE.finditer(text)]  # prose says "since 2017"
    problems += [f"a number that is no year: {m.group(0)}" for m in SINCE_NO_YEAR.finditer(text)]  # "for 2 years"
    problems += [f"years of {part}" for part in resume_role_parts(profile.resume)
                 if re.search(rf"\byears? (?:of|in) {re.escape(part)}\b", lowered)]  # "6 years of Kestrel Systems"
    problems += [f"'{m.group(0)}'" for m in (*A_BEFORE_VOWEL.finditer(text), *AN_BEFORE_CONSONANT.finditer(text))
                 if not m.group(0).split()[-1].isupper()]  # acronyms go by their letters' sounds
    problems += [f"a name twice: {m.group(0)}" for m in ECHOED_NAME.finditer(text)]
    given = given_capitals(profile)
    problems += [f"in capitals: {word}" for word in SHOUTED.findall(text) if word not in given]
    problems += [f"a hashtag: {tag}" for tag in HASHTAG.findall(text)]
    own = {word.lower() for word in ENDED_ABROAD.findall(source_text(profile))}
    problems += [f"another alphabet: {word}" for word in ENDED_ABROAD.findall(text) if word.lower() not in own]
    written = written_words(profile)
    problems += [f"bent: {word}" for word in BENT.findall(text)  # a plural too: "KPIs", "MLflows"
                 if word not in written and not (word.endswith("s") and (word[:-1].isupper() or word[:-1] in written))]
    return problems


def written_words(profile: letter.Profile) -> set[str]:
    """The profile's words as it writes them, in its own case ("MLflow", "XCTest")."""
    return set(WORD.findall(source_text(profile)))


def given_capitals(profile: letter.Profile) -> set[str]:
    """The words of three capitals or more that the profile writes so ("HPLC", "OSHA"): a letter writes no others
    so ("VET TECH", "BEST regards")."""
    return set(SHOUTED.findall(source_text(profile)))


# --------------------------------------------------------------------------- a set of letters

BOILERPLATE_LETTERS = 5  # a sentence in this many letters for different applicants is boilerplate
BOILERPLATE_WORDS = 6  # shorter sentences ("Thank you for your time.") are the letter's form, not its content
SHARED_WORDS = 8  # a sentence this long in two letters was not written for either


def masked(text: str, profile: letter.Profile) -> str:
    for value, mask in ((profile.company_name, "COMPANY"), (profile.job_title, "TITLE"), (profile.name, "NAME"),
                        *((part, "NAME") for part in profile.name.split())):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", mask, text, flags=re.IGNORECASE)
    return text


MASKS = {"company", "title", "name"}


def sentence_keys(letters: list[tuple[str, letter.Profile]], words: int, own_words: bool = False):
    """(applicant, key) for each sentence of `words` or more words, names masked; with `own_words`, the masks
    themselves not counted ("I am applying for the TITLE role at COMPANY" has seven)."""
    for text, profile in letters:
        for sentence in letter.sentences(masked(text, profile)):
            key = letter.said_key(sentence)
            if len([w for w in key.split() if not (own_words and w in MASKS)]) >= words:
                yield profile.name, key


def boilerplate(letters: list[tuple[str, letter.Profile]]) -> tuple[float, list[str]]:
    """The share of sentences (6+ words; name, company and title masked) found in 5 or more letters for
    different applicants, and those sentences, most frequent first."""
    applicants, keys = defaultdict(set), []
    for name, key in sentence_keys(letters, BOILERPLATE_WORDS):
        applicants[key].add(name)
        keys.append(key)
    common = {key for key, names in applicants.items() if len(names) >= BOILERPLATE_LETTERS}
    share = sum(key in common for key in keys) / max(1, len(keys))
    return share, sorted(common, key=lambda key: -len(applicants[key]))


def shared_sentences(letters: list[tuple[str, letter.Profile]]) -> dict[str, set[str]]:
    """Sentences of 8+ words of the writer's own (names masked and not counted) that letters for two or more
    applicants share, with the applicants; a sign-off line is too short to count."""
    applicants = defaultdict(set)
    for name, key in sentence_keys(letters, SHARED_WORDS, own_words=True):
        applicants[key].add(name)
    return {key: names for key, names in applicants.items() if len(names) >= 2}


def distinct_n(texts: list[str], n: int = 3) -> float:
    """Distinct n-grams over all n-grams of the texts' words (1.0: nothing repeats; templates score low)."""
    grams = [tuple(words[i:i + n]) for text in texts for words in [re.findall(r"[\w'’]+", text.lower())]
             for i in range(len(words) - n + 1)]
    return len(set(grams)) / max(1, len(grams))
