"""The job ad as the rubric and the guards read it: its stated requirements, each as the stems of its content
words; whether a letter takes one up; and which of the ad's words the applicant never wrote, so that a claim of
theirs may not take them up (`rubric.borrowed_claims`, `guards.ClaimGuard`).
"""

from __future__ import annotations

import math
import re

from . import letter
from .facts import WORD, bare


def applicant_text(profile: letter.Profile) -> str:
    """What the applicant says of themselves: every field but the ad."""
    return "\n".join(str(value) for key, value in profile.as_dict().items() if key != "job_description")


GENERIC = set("""a an the and or of to in on for with at by from as is are be will you your our we us they their
this that these those it its into about who what which can could would should must may also plus etc using use
experience experienced years year strong ability able skills skill someone love looking hiring hire join role team
teams work working job position candidate ideal required requirements requirement preferred bonus including
include includes knowledge understanding familiarity comfort comfortable excellent good great proven track record
help helping bring based within new need needs want have has day days week weeks per well both other more than
responsibilities responsible such like ll re ve out up off applicant applicants seek seeks seeking hold
holds""".split())


LONE_VERB = re.compile(r"\b(?:will|to|can|must|should|also)\s+\w+\s*$", re.IGNORECASE)


STEM_LETTERS = 7  # a word's stem is at most its first seven letters: "hospitality" and "hospital" are one


def stem(word: str) -> str:
    word = bare(word).rstrip("s") if len(word) > 3 else bare(word)
    return word[:STEM_LETTERS]


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in WORD.findall(text) if bare(w) not in GENERIC and len(w) >= 2}


def ad_requirements(profile: letter.Profile) -> list[set[str]]:
    """The ad's stated requirements and duties, each as the stems of its content words, without the company's
    and the title's own words (every letter names those). A lone verb is none: 'You will plan' is not a
    requirement that 'plan' anywhere takes up."""
    named = content_stems(f"{profile.company_name} {profile.job_title}")
    requirements = []
    for phrase in re.split(r"[.;:!?()\n]|,|\band\b|\bor\b", profile.job_description):
        stems = content_stems(phrase)
        if stems - named and not (len(stems) == 1 and LONE_VERB.search(phrase)):
            requirements.append(stems - named)
    return requirements


def unsaid(requirement: set[str], own_stems: set[str]) -> set[str]:
    """The stems of an ad's requirement that the applicant never wrote."""
    return {s for s in requirement if not said_by_applicant(s, own_stems)}


def borrowed_only_as_name(requirement: set[str]) -> bool:
    """A requirement of one word is borrowed only as a name, written with a capital ("Salesforce"): in lower case it
    is a word anyone may use ("plan", "build")."""
    return len(requirement) == 1


def ad_only_stems(profile: letter.Profile) -> tuple[set[str], set[str]]:
    """What a claim of the applicant's may not take up (`borrowed_claims`): the stems of the ad's requirements that
    the applicant never wrote, as (words, names)."""
    own = content_stems(applicant_text(profile))
    requirements = ad_requirements(profile) if profile.job_description else []
    words, names = set(), set()
    for requirement in requirements:
        (names if borrowed_only_as_name(requirement) else words).update(unsaid(requirement, own))
    return words, names - words


def takes_up(text: str, requirement: set[str]) -> bool:
    """Whether a letter answers a requirement: it names most of its content words (both of two)."""
    return len(requirement & content_stems(text)) >= math.ceil((len(requirement) + 1) / 2)


def uses_job_ad(text: str, profile: letter.Profile) -> bool:
    """True when there is no ad to use, or the letter takes up one of its requirements."""
    return not profile.job_description or any(takes_up(text, req) for req in ad_requirements(profile))


def said_by_applicant(word_stem: str, own: set[str]) -> bool:
    """Whether the applicant wrote this stem, by its hyphenated parts ('on-call': 'on call') or in another form
    ('keep': 'keeping')."""
    if word_stem in own or content_stems(word_stem.replace("-", " ")) <= own:
        return True
    return len(word_stem) >= 4 and any(o.startswith(word_stem) or word_stem.startswith(o) for o in own if len(o) >= 4)
