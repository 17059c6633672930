"""The rubric: what a recruiter checks in a letter, rule by rule, and how much of a set of letters is boilerplate.

Structural rules (name, company, title, a skill, length, greeting, sign-off, no placeholder, no repeats) and the
rules a reader notices next:
- `faithful`: no invented fact. No number, degree, credential or proper name that the profile and the ad do not
  hold; no job ad cited when none was given; the applicant's and the company's names spelled as given.
- `uses_job_ad`: given an ad, the letter takes up at least one of its stated requirements.
- `grammatical`: the phrases the user typed fit the sentences around them ("I use leading a line" fails), and no
  name is joined to itself ("Qualtrics as well as Qualtrics").
- `faithful` also fails on a claim borrowed from the ad (a number, skill or duty only the ad states, said of the
  applicant), on a year standing where a skill or a length of time should ("I bring 2015", "for 2019"), on a
  number of the profile's claimed as years ("44 years of research" from 44 studies), and on a claim to work at
  the company applied to already ("I hold board reporting at Greenhollow").
- the habits of template prose (`prose`): a skill named three or more times, "my <skill>", one opening for
  sentence after sentence.

`evaluate` scores generated letters with it; `synthetic` holds its own training letters to it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from difflib import SequenceMatcher
from os.path import commonprefix

from . import letter, prose
from .jobad import (ad_requirements, applicant_text, borrowed_only_as_name, content_stems, said_by_applicant, stem,
                    takes_up, unsaid, uses_job_ad)
from .facts import CONTACT, CREDENTIAL, MONTH, ONGOING, WORD, YEAR, bare, profile_skills, source_text, word_set

HABITS = ("skills_not_repeated", "skills_not_possessed", "openings_varied")  # of template prose (`prose`)
RULES = ("name", "company", "job_title", "skill", "no_placeholder", "length", "greeting", "sign_off", "no_repeats",
         "faithful", "uses_job_ad", "grammatical", *HABITS)
INVENTED = {"number", "credential", "name", "length_of_time", "employer", "span"}  # facts the profile does not give
BORROWED = {"borrowed", "year_as_skill", "moved_year"}  # the ad's facts, or a year, made the applicant's own
GREETING = re.compile(r"^(dear|hello|hi|greetings|to whom it may concern)\b", re.IGNORECASE)

# --------------------------------------------------------------------------- faithful

NUMBER_WORDS = dict(zip((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"), range(21)))
NUMBER_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                 "hundred": 100, "thousand": 1000, "million": 1_000_000, "dozen": 12, "dozens": 12}
FRACTIONS = "¼½¾⅐⅑⅒⅓⅔⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞"  # one character each: "½ year" is a number too
NUMBER = re.compile(rf"\d+(?:[.,]\d+)*|[{FRACTIONS}]|\b(?:" + "|".join(NUMBER_WORDS)
                    + r")(?:-(?:one|two|three|four|five|six|seven|eight|nine))?\b", re.IGNORECASE)
# "one" is a number only as a length or a count of something ("one year", "one-day", "one+"); else a pronoun or an
# idiom ("one of", "a reliable one", "in one place"), which the fact guard never rules out either
NOT_A_NUMBER = re.compile(r"(?<!-)\bone\b(?!\s*(?:[-+\d]|(?:years?|yrs|months?|weeks?)\b))", re.IGNORECASE)
# Degrees, credentials and schools, by the stem the profile must also hold
AD_REFERENCE = re.compile(r"\b(?:advert(?:isement)?s?\b|(?:job|your|the|this) (?:ad|posting|listing|description)\b"
                          r"|job (?:ads?|post)\b|vacancy (?:notice|announcement)|as (?:advertised|posted|listed)\b)",
                          re.IGNORECASE)
# Capitalized words a letter may use without the profile naming them
COMMON_CAPITALS = {
    "i", "dear", "hiring", "manager", "managers", "team", "committee", "recruitment", "recruiting", "recruiter",
    "talent", "acquisition", "human", "resources", "hr", "sir", "madam", "regards", "wishes", "sincerely", "best",
    "kind", "warm", "yours", "faithfully", "truly", "respectfully", "thank", "thanks", "cheers", "mr", "mrs", "ms",
    "dr", "gratitude", "warmly", "to", "whom", "it", "may", "concern", "hello", "hi", "greetings",
}


def numbers(text: str) -> set[str]:
    """The numbers a text states, as values: '5 years' and 'five years' both give '5'. A phone number or an
    address states none: "+1 555 …" gives no 555 days."""
    text = NOT_A_NUMBER.sub(" ", CONTACT.sub(" ", text))
    found = set()
    for match in NUMBER.finditer(text):
        token = match.group(0).lower()
        if token[0].isdigit():
            found.add(token.replace(",", ""))
        elif token in FRACTIONS:
            found.add(f"{unicodedata.numeric(token):g}")
        else:
            found.add(str(sum(NUMBER_WORDS.get(part, 0) for part in token.split("-")) if "-" in token
                          else NUMBER_WORDS[token]))
    return found


SENTENCE_START = r"(?:^|[.!?:;]\s+|\n\s*|[-•*]\s+|[\"“(]\s*)"  # what comes before a sentence or a line


def sentence_starts(text: str) -> set[int]:
    """Where each line and sentence of the text starts (a capital there says nothing about a name)."""
    return {m.end() for m in re.finditer(SENTENCE_START, text)}


def starts_sentence(text: str) -> bool:
    """Whether a word written right after `text` starts a sentence or a line."""
    return re.search(SENTENCE_START + r"\Z", text) is not None


ACRONYM = re.compile(r"[A-Z][A-Z0-9&]+s?")


def capitalized_words(text: str) -> list[str]:
    """Capitalized words that are not at the start of a sentence or a line, below the greeting, and acronyms
    anywhere: "(ICSS)" is a name wherever it stands."""
    body = text.split("\n", 1)[1] if "\n" in text else text
    starts = sentence_starts(body)
    return [m.group(0) for m in WORD.finditer(body) if m.group(0)[0].isupper()
            and (m.start() not in starts or ACRONYM.fullmatch(m.group(0)))]


def name_words(profile: letter.Profile) -> set[str]:
    """The lower-case words that a capitalized word inside a sentence may spell without naming something the profile
    does not: its and the ad's words, whole and by their hyphenated parts, with a plural s, and COMMON_CAPITALS."""
    known = word_set(source_text(profile))
    parts = {part for word in known for part in re.split(r"\W+", word) if part}
    return known | parts | {word + "s" for word in known | parts} | COMMON_CAPITALS


# Words that open sentences and sit one letter from a name ("Since" and "Signe", "There" and "Three"): not misspellings
EVERYDAY_WORDS = {"since", "there", "these", "those", "their", "where", "while", "which", "three", "then", "than",
                  "though", "through", "thank", "thanks", "when", "what", "with", "will", "would", "could", "should",
                  "having", "being", "before", "after", "also", "once", "every", "each", "most", "more", "many"}


def near_miss(word: str, names: set[str]) -> str | None:
    """The given name that `word` misspells ('Corrab' for 'Corrib'), if any; not a word derived from it
    ('logistical' from 'Logistics'), which shares all but its ending, nor an everyday word."""
    if word in EVERYDAY_WORDS:
        return None
    for name in names:
        derived = len(word) != len(name) and len(commonprefix([word, name])) >= len(name) - 1
        if word != name and word[0] == name[0] and len(name) >= 4 and not derived and \
                SequenceMatcher(None, word, name).ratio() >= 0.8:
            return name
    return None


DEGREES = ("bache", "maste", "mba", "ph.d", "phd", "docto", "b.sc", "bsc", "m.sc", "msc")


def credential_stems(text: str) -> set[str]:
    """'Certified paralegal, BSc' -> {'certi', 'bsc', 'degre'}: any named degree makes 'degree' no invention."""
    stems = {m.group(0)[:5].lower() for m in CREDENTIAL.finditer(text)}
    return stems | ({"degre"} if stems & set(DEGREES) else set())


FIRST_PERSON = re.compile(r"\b(?:I|I've|I'm|I'd|[Mm]y|[Mm]e)\b")
# a clause that speaks of the ad, of what the applicant lacks or of what they wish to do claims nothing
NOT_A_CLAIM = re.compile(r"\b(?:you|your|advert\w*|ad|posting|listing|asks?|asking|looking for|seek\w*|requires?|"
                         r"calls? for|mentions?|wants?|not|never|no|yet|learn\w*|hope|keen|eager|look forward|"
                         r"reasons?|interest\w*|admire|drawn|appeal\w*|excit\w*|passion\w*|care|love|enjoy|"
                         r"chance to|opportunit\w*|(?:the|this) (?:job|role|position)|"
                         r"would (?:like|love|enjoy|welcome|be (?:glad|happy|pleased|delighted|excited)))\b",
                         re.IGNORECASE)
CLAUSE_BREAK = re.compile(r"(?<!\d),|,(?!\d)|[;:—–()]|\s-\s|\b(?:but|while|although|whereas)\b")  # not 40,000
TIME_UNITS = {"year": "year", "years": "year", "yrs": "year", "month": "month", "months": "month", "week": "week",
              "weeks": "week"}  # the words of a length of time, and the unit each one names
LENGTH_OF_TIME = re.compile(rf"(?:{NUMBER.pattern})\+?[ -](?:{'|'.join(TIME_UNITS)})\b", re.IGNORECASE)  # "5+ years"
# a clause that places the applicant at the company only to apply, to wish, or as a visitor claims no work there
NOT_WORK_THERE = re.compile(r"\b(?:apply\w*|application|join\w*|role|position|post|job|vacancy|opening|programme|"
                            r"bring|contribute|offer|help|can|could|will|would|should|might|wish|hop\w*|plan\w*|aim|"
                            r"ready|future|next|expect\w*|look\w* forward|visit\w*|follow\w*|read|heard|seen|saw|"
                            r"watch\w*|volunteer\w*|wait|talk\w*|discuss\w*|to work)\b", re.IGNORECASE)
# the words before a year that make it a skill, a thing held or a length: "I bring 2015", "for 2019", "I have 2014",
# "I have spent 2015 working"
YEAR_LEAD = r"\b(?:bring|brings|brought|my|for|with|using|including|includes?|years? of|have|has|had|spen[dt]\w*)"
YEAR_AS_SKILL = re.compile(rf"{YEAR_LEAD}\s+{MONTH}{YEAR}\b", re.IGNORECASE)
# a span that ends in the year it began: "a Senior UX Researcher from 2020 until 2020", where the résumé says 2020 -
# present ("2017-2017", the résumé's form, is `prose`'s)
SPAN_TO = r"(?:until|till|to|through|and|up to)"
SAME_YEAR_SPAN = re.compile(rf"\b({YEAR}),?\s+{SPAN_TO}\s+\1\b", re.IGNORECASE)


SINCE_YEAR = re.compile(rf"\bsince\s+{MONTH}({YEAR})\b", re.IGNORECASE)
BEGINS = re.compile(rf"{MONTH}({YEAR})\s*(?:[–—-]|\bto\b)\s*(?:{ONGOING}|{MONTH}{YEAR})\b|"
                    rf"{SINCE_YEAR.pattern}", re.IGNORECASE)  # "2017 – present", "2012 to 2018", "since 2019"


def years_begun(source: str, sentence: str) -> set[str]:
    """The years a sentence may say something began in ("since 2019"): where a dated span of the profile begins or
    it says something began, and the year of a line the sentence speaks of ("a Certified Credit Professional since
    2019" from "Certified Credit Professional (CCP), 2019"; not a diploma's year for a job)."""
    begun, dated = years_of(source)
    said = content_stems(SINCE_YEAR.sub("", sentence))
    return begun | {year for stems, years in dated if stems & said for year in years}


@functools.lru_cache(maxsize=64)
def years_of(source: str) -> tuple[frozenset[str], tuple[tuple[frozenset[str], tuple[str, ...]], ...]]:
    """A profile's years read once (a guard asks at every "since"): those that begin a span, and each dated line's
    words with its years."""
    begun = frozenset(year for match in BEGINS.finditer(source) for year in match.groups() if year)
    lines = ((frozenset(content_stems(line)), tuple(re.findall(rf"\b{YEAR}\b", line))) for line in source.splitlines())
    return begun, tuple((stems, years) for stems, years in lines if years)


def moved_years(text: str, profile: letter.Profile) -> list[str]:
    """A year the letter says something began in ("since") that the profile gives to something else: "Since 2014 I
    have been a DevOps Engineer" where 2014 is the diploma's year and the job began in 2017 (a year the profile
    never gives is `number`)."""
    source = source_text(profile)
    stated = numbers(source)
    return [match.group(0) for sentence in letter.sentences(text) for match in SINCE_YEAR.finditer(sentence)
            if match.group(1) in stated and match.group(1) not in years_begun(source, sentence)]


def claim_clauses(text: str) -> list[str]:
    """The clauses in which the applicant states something of themselves."""
    return [clause for sentence in letter.sentences(text) for clause in CLAUSE_BREAK.split(sentence)
            if clause and FIRST_PERSON.search(clause) and not NOT_A_CLAIM.search(clause)]


def borrowed_claims(text: str, profile: letter.Profile) -> list[str]:
    """What the letter claims for the applicant that only the ad states: its numbers ('I led a team of 8' where
    only the ad says 8), and its requirements, most of whose words the applicant never wrote."""
    if not profile.job_description:
        return []
    own = applicant_text(profile)
    ad_numbers = numbers(profile.job_description) - numbers(own)
    own_stems = content_stems(own)
    found = []
    for clause in claim_clauses(text):
        found += sorted(numbers(clause) & ad_numbers)
        said = content_stems(clause)
        named = {stem(w) for w in WORD.findall(clause)[1:] if not w.islower()}
        for requirement in ad_requirements(profile):
            if borrowed_only_as_name(requirement) and not requirement <= named:
                continue
            ad_only = unsaid(requirement, own_stems)
            if ad_only and takes_up(clause, requirement) and len(said & ad_only) * 2 >= len(requirement):
                found.append(" ".join(sorted(said & requirement)))
    return list(dict.fromkeys(found))


def lengths_of_time(text: str) -> set[tuple[str, str]]:
    """The lengths of time a text gives, as (value, unit): "5+ years" and "five-year" both give ('5', 'year')."""
    return {(value, TIME_UNITS[match.group(0).lower().split()[-1].split("-")[-1]])
            for match in LENGTH_OF_TIME.finditer(text) for value in numbers(match.group(0))}


def invented_lengths(text: str, profile: letter.Profile) -> list[str]:
    """The applicant's claims of a length of time that the profile states as a number but never as one, in that
    unit: "I bring 44 years of research" where the profile has 44 studies, "12 months" where it has 12 years (a
    number it does not state at all is `number`)."""
    source = source_text(profile)
    stated, lengths = numbers(source), lengths_of_time(source)
    claimed = (match.group(0) for clause in claim_clauses(text) for match in LENGTH_OF_TIME.finditer(clause))
    return [length for length in claimed if numbers(length) <= stated
            and not lengths_of_time(length) <= lengths]


# first words that name no one company: "the University" is not Kingsmere's
COMMON_FIRST_WORDS = {"university", "city", "county", "state", "national", "royal", "united", "general", "central",
                      "north", "south", "east", "west", "saint", "first", "global", "international", "community"}


def company_keys(company: str) -> list[str]:
    """How a letter names the company: whole, or by its first word ("Greenhollow" of Greenhollow Community Trust)."""
    words = re.sub(r"^the\s+", "", company, flags=re.IGNORECASE).split()
    first = words[:1] if len(words) > 1 and len(words[0]) >= 4 and words[0].lower() not in COMMON_FIRST_WORDS else []
    return [" ".join(words), *first]


EMPLOYED = r"\b(?:at|work\w* for)(?: the)?"  # how a claim places the applicant: "reporting at", "working for the"


def company_named(profile: letter.Profile) -> re.Pattern:
    return re.compile(rf"\b(?:{'|'.join(map(re.escape, company_keys(profile.company_name)))})\b", re.IGNORECASE)


# "Ravenhill is where I already do bank shifts"; not "where I grew up"
WHERE_I_WORK = re.compile(r"\bwhere I(?:'ve| have| had)? (?:already |currently |now |also )?(?:work|do|did|volunteer|"
                          r"run|ran|help|lead|led|teach|taught|manag|serv|start|began|train)\w*", re.IGNORECASE)


def placed_there(profile: letter.Profile) -> bool:
    """Whether the applicant's own words place them at the company applied to already: their résumé names it, or
    their reasons do ("Ravenhill is where I already do bank shifts")."""
    named = company_named(profile)
    there = re.compile(rf"{EMPLOYED} {named.pattern}", re.IGNORECASE)
    reasons = profile.reasons  # "Halloran Bay is a small hospital. It's where I did my pre-registration year."
    return bool(named.search(f"{profile.resume}\n{profile.skills}") or there.search(reasons)
                or named.search(reasons) and WHERE_I_WORK.search(reasons))


def employer_words(profile: letter.Profile) -> set[str]:
    """The company's one-word names, lower-case ("greenhollow"), that a claim to work there would write; none where
    the applicant is placed there already."""
    return set() if placed_there(profile) else {k.lower() for k in company_keys(profile.company_name) if " " not in k}


# a clause that leans on its sentence's subject: "Since 3 years baking at X, I ...", "I have 4 years, most recently as"
NO_SUBJECT = re.compile(r"\s*(?:(?:most )?recently|currently|now|since|after|before|during|with|at|in|for|over|"
                        r"through|as|from|(?!(?:no|some|every|any)thing)\w+ing)\b", re.IGNORECASE)
# "I have worked with your team for years": a claim to have worked with the company already, said to it
WORKED_WITH = r"\bI(?:'ve| have| had)?(?: already| long)? (?:worked|been working) (?:with|for|alongside)"
YOUR_PEOPLE = ("team", "company", "staff", "people", "business", "organisation", "organization")
WORKED_WITH_YOU = re.compile(rf"{WORKED_WITH} (?:you|your (?:{'|'.join(YOUR_PEOPLE)}))\b", re.IGNORECASE)


def claimed_employer(text: str, profile: letter.Profile) -> list[str]:
    """The applicant's claims to work already at the company applied to ("I hold board reporting at Greenhollow",
    "Since 3 years baking at Maison Corvette, I have ...", "I have worked with your team for years"), unless their
    own words place them there (`placed_there`). A clause with no subject of its own is read as the applicant's
    where its sentence holds their claim (`NO_SUBJECT`)."""
    if placed_there(profile):
        return []
    there = re.compile(rf"{EMPLOYED} {company_named(profile).pattern}(?!'s)", re.IGNORECASE)
    found = []
    for sentence in filter(claim_clauses, letter.sentences(text)):
        for clause in CLAUSE_BREAK.split(sentence):
            said = clause if FIRST_PERSON.search(clause) else sentence if NO_SUBJECT.match(clause) else None
            if said and there.search(clause) and not NOT_A_CLAIM.search(clause) and not NOT_WORK_THERE.search(said):
                found.append(clause.strip())
    return found + [m.group(0) for m in WORKED_WITH_YOU.finditer(text)]


def invented_facts(text: str, profile: letter.Profile) -> dict[str, list[str]]:
    """What the letter says that the profile and the ad do not, by kind (empty lists: nothing invented), and what
    it borrows from the ad as the applicant's own."""
    source = source_text(profile)
    known = word_set(source)
    names = {bare(w) for w in WORD.findall(f"{profile.name} {profile.company_name}")}
    may_capitalize = name_words(profile)
    found = {"number": sorted(numbers(text) - numbers(source)),
             "credential": sorted({m.group(0) for m in CREDENTIAL.finditer(text)
                                   if m.group(0)[:5].lower() not in credential_stems(source)}),
             "ad_cited": [] if profile.job_description else sorted({m.group(0) for m in AD_REFERENCE.finditer(text)}),
             "borrowed": borrowed_claims(text, profile),
             "year_as_skill": [m.group(0) for m in YEAR_AS_SKILL.finditer(text)],
             "moved_year": moved_years(text, profile),
             "span": [m.group(0) for m in SAME_YEAR_SPAN.finditer(text) if m.group(0) not in source],
             "length_of_time": invented_lengths(text, profile), "employer": claimed_employer(text, profile),
             "misspelled": [], "name": []}
    for word in {w for w in WORD.findall(text) if w[0].isupper()}:  # names are written with a capital
        key = bare(word)
        miss = None if key in known or key.rstrip("s") in known else near_miss(key, names)
        if miss:
            found["misspelled"].append(f"{word} ({miss})")
    for word in set(capitalized_words(text)) - set(found["credential"]):  # "University" is told once
        key = bare(word)
        if not set(re.split(r"\W+", key)) - {""} <= may_capitalize and not near_miss(key, names):
            found["name"].append(word)
    found["misspelled"].sort()
    found["name"].sort()
    return found


# --------------------------------------------------------------------------- the letter and a set of letters


def score_letter(text: str, profile: letter.Profile) -> dict[str, bool]:
    """Each rule True when the letter meets it."""
    return judge(text, profile)["rules"]


def names_a_skill(text: str, profile: letter.Profile) -> bool:
    """Whether the letter names a listed skill: as typed, or by all its words in one sentence, in any form or order
    ("I monitor anaesthesia" for "anaesthesia monitoring"; a writer turns a skill into what they do)."""
    lowered, said = text.lower(), [content_stems(sentence) for sentence in letter.sentences(text)]
    for skill in profile_skills(profile):
        stems = content_stems(skill)
        if skill in lowered or stems and any(all(said_by_applicant(s, sentence) for s in stems) for sentence in said):
            return True
    return False


def judge(text: str, profile: letter.Profile) -> dict:
    """The rules ("rules": each True when met), and what broke them: the invented facts by kind ("invented"), the
    phrases put where they do not fit ("misplaced") and the habits of template prose ("habits")."""
    invented = {kind: found for kind, found in invented_facts(text, profile).items() if found}
    misplaced = prose.misplaced_phrases(text, profile)
    habits = prose.habits(text, profile_skills(profile))
    lowered = text.lower()
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    low, high = letter.word_range(profile)
    said = [key for key in map(letter.sentence_key, letter.sentences(text)) if key]
    closing = lines[-4:]
    rules = {
        "name": profile.name.lower() in lowered,
        "company": profile.company_name.lower() in lowered,
        "job_title": profile.job_title.lower() in lowered,
        "skill": names_a_skill(text, profile),
        # the prompt's stand-in for skills left to the résumé, copied as if it were one
        "no_placeholder": not letter.PLACEHOLDER.search(text) and letter.SKILLS_IN_RESUME not in text,
        "length": low <= letter.word_count(text) <= high,
        "greeting": bool(lines) and bool(GREETING.match(lines[0])),
        "sign_off": any(letter.is_sign_off(line) for line in closing)
                    and any(profile.name.lower() in line.lower() for line in closing),
        "no_repeats": len(said) == len(set(said)),
        "faithful": not invented,
        "uses_job_ad": uses_job_ad(text, profile),
        "grammatical": not misplaced,
        "skills_not_repeated": not habits["repeated_skill"],
        "skills_not_possessed": not habits["possessed_skill"],
        "openings_varied": not habits["repeated_opening"],
    }
    return {"rules": rules, "invented": invented, "misplaced": misplaced,
            "habits": {kind: found for kind, found in habits.items() if found}}
