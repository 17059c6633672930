"""The job ad: its requirements, whether a letter takes one up, and the words of it the applicant never wrote."""

from coverletter import jobad, letter

PROFILE = letter.make_profile(name="Aiko Tanaka", job_title="UX Researcher", company_name="Quillstone Analytics",
                              skills="4 years of usability testing, survey design, Figma", reasons="Evidence.")


def with_ad(ad: str) -> letter.Profile:
    return letter.make_profile(**{**PROFILE.as_dict(), "job_description": ad})


def test_an_ad_is_taken_up_by_its_requirements_not_by_a_stray_word():
    requirements = jobad.ad_requirements(with_ad(
        "You will plan our roadmap. Requirements: SLOs, incident response and automation of deploys. Kafka."))
    assert {"slo"} in requirements and {"kafka"} in requirements and {"inciden", "respons"} in requirements
    assert {"plan"} not in requirements  # a lone lower-case verb is not a requirement
    assert jobad.takes_up("I define SLOs for every service.", {"slo"})
    assert not jobad.takes_up("I know incident management.", {"inciden", "respons"})  # both words of two
    assert jobad.uses_job_ad("Dear team, I like it.", PROFILE)  # no ad: nothing to take up


def test_the_ads_own_frame_is_no_part_of_a_requirement():
    """"Applicants must hold current registration" asks for current registration: a letter that answers it with
    those words takes it up (it had needed "applicants" or "hold" too)."""
    profile = with_ad("Applicants must hold current registration. Clinic seeks a physiotherapist.")
    assert jobad.ad_requirements(profile) == [{"current", "registr"}, {"clinic", "physiot"}]
    assert jobad.uses_job_ad("Your ad asks for current registration: mine is renewed.", profile)


def test_the_ads_words_a_claim_may_not_take_up_are_those_the_applicant_never_wrote():
    words, names = jobad.ad_only_stems(with_ad("You will plan. Remote interviewing. Dovetail. Survey design."))
    assert words == {"remote", "intervi"} and names == {"dovetai"}  # survey design is the applicant's; plan anyone's
    assert jobad.ad_only_stems(PROFILE) == (set(), set())


def test_the_applicant_wrote_a_word_in_another_form_or_by_its_parts():
    own = jobad.content_stems("on call, keeping records")
    assert jobad.said_by_applicant("on-call", own) and jobad.said_by_applicant("keep", own)
    assert not jobad.said_by_applicant("hospita", own)
    assert "Quillstone" in jobad.applicant_text(PROFILE)
    assert "wanted" not in jobad.applicant_text(with_ad("Kafka wanted."))  # the ad is not the applicant's
