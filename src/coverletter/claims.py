"""The claim being written, read as `rubric` reads a whole letter's claims: the clause so far, whether it is the
applicant's claim about themselves, and whether it has just placed them somewhere. The guards ask this at every
step (`guards.FactGuard`, `guards.ClaimGuard`)."""

from __future__ import annotations

import re

from . import letter, rubric

EMPLOYED_SO_FAR = re.compile(rf"{rubric.EMPLOYED}\s*\Z", re.IGNORECASE)


def last_clause(sentence: str) -> str:
    return rubric.CLAUSE_BREAK.split(sentence)[-1]


def claim_so_far(text: str) -> str | None:
    """The clause being written, where it is the applicant's claim about themselves (`claims`) or opens its
    sentence with no subject of its own ("Since 12 years as", `leans_on_applicant`), as the rubric reads such a
    clause; None where it is neither."""
    sentence = letter.sentence_so_far(text)
    clause = last_clause(sentence)
    return clause if claims(clause) or leans_on_applicant(sentence, clause) else None


def claims_so_far(text: str) -> bool:
    return claim_so_far(text) is not None


def claims(clause: str) -> bool:
    """Whether a clause is the applicant's claim about themselves, as `rubric.claim_clauses` reads one: in the first
    person, and not about the ad, a wish or a lack."""
    return bool(rubric.FIRST_PERSON.search(clause)) and not rubric.NOT_A_CLAIM.search(clause)


def places_applicant(clause: str) -> bool:
    """Whether a claim has just placed the applicant somewhere ("I report at", "working for the"), as
    `rubric.claimed_employer` reads a claim to work at the company already: not a wish, a visit or an application
    (`rubric.NOT_WORK_THERE`)."""
    return bool(EMPLOYED_SO_FAR.search(clause)) and not rubric.NOT_WORK_THERE.search(clause)


def leans_on_applicant(sentence: str, clause: str) -> bool:
    """Whether the clause being written opens its sentence with no subject of its own, which will be the
    applicant's ("Since 3 years baking at", as `rubric.NO_SUBJECT` reads it); not a bare "At" before a name."""
    return (clause == sentence and bool(rubric.NO_SUBJECT.match(clause))
            and not EMPLOYED_SO_FAR.fullmatch(clause.lstrip()))
