"""The claim being written, read as the rubric reads a whole letter's claims."""

import pytest

from coverletter import claims


@pytest.mark.parametrize("text, claim", [
    ("Dear team,\n\nIn my current job I run", True),  # first person
    ("Dear team,\n\nSince 3 years baking at", True),  # no subject yet: the applicant's, to come
    ("Dear team,\n\nWorking with", True),
    ("Dear team,\n\nIt has", False),
    ("Dear team,\n\nYou ask for", False),  # about the ad
    ("Dear team,\n\nI would love to", False),  # a wish
    ("Dear team,\n\nAt", False),  # a bare "At" before a name may be the company's
    ("Dear team,\n\nThe hotel is busy, and I run", True),  # the clause being written, not the sentence
])
def test_a_claim_is_the_applicants_own_clause_or_one_whose_subject_is_to_come(text, claim):
    assert claims.claims_so_far(text) is claim


def test_a_claim_places_the_applicant_only_where_they_would_work_already():
    assert claims.places_applicant("I report at") and claims.places_applicant("I am working for the")
    assert not claims.places_applicant("I would love to work at") and not claims.places_applicant("I apply at")
    assert claims.claim_so_far("I ran the desk, and I report at") == " and I report at"  # after the comma
    assert claims.claim_so_far("I ran the desk, and you ask for") is None
