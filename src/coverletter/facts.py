"""What a profile says, as the rubric and the guards compare a letter with it: its words, the skills typed in or
left to the résumé, and the résumé's dated lines (jobs, degrees), which name where the applicant was, not skills."""

from __future__ import annotations

import re

from . import letter

WORD = re.compile(r"[A-Za-z][\w'’&-]*")


def bare(word: str) -> str:
    """'Corrib's' -> 'corrib', 'APIs' -> 'apis', "I'm" -> 'i': a word as compared with the profile's words."""
    return re.sub(r"['’](?:s|m|d|ve|ll|re)?$", "", word.rstrip("-")).lower()


def word_set(text: str) -> set[str]:
    """The text's words (possessives dropped), each also without a plural s: 'SLOs' matches 'SLO'."""
    words = {bare(w) for w in WORD.findall(text)}
    return words | {w[:-1] for w in words if w.endswith("s")}


def source_text(profile: letter.Profile) -> str:
    """Everything the letter may draw facts from."""
    return "\n".join(str(value) for value in profile.as_dict().values())


RESUME_HEADINGS = ("skills", "experience", "skills and experience", "key skills", "profile", "core strengths",
                   "work experience", "work history", "summary", "education", "certifications", "career", "work",
                   "employment", "employment history", "professional experience", "career history", "qualifications",
                   "education and training", "training", "achievements", "projects", "volunteering", "languages",
                   "interests", "references", "contact", "personal statement", "professional summary", "licences",
                   "licenses", "certifications and training", "technical skills", "selected achievements")


def listed_skills(skills: str) -> list[str]:
    """'Go and Python, SQL; leading a line' -> ['go and python', 'sql', 'leading a line']; list bullets dropped."""
    return [skill for skill in (s.lstrip("-*• ").lower() for s in letter.skill_list(skills)) if len(skill) >= 2]


CREDENTIAL = re.compile(r"\b(?:bachelor|master|mba|ph\.?d|doctorate|b\.?sc|m\.?sc|degree|diploma|certif\w*|"
                        r"licen[cs]\w*|accredit\w*|universit\w*|college|graduat\w*|alumn\w*)\b", re.IGNORECASE)
DEGREE = re.compile(r"(?:[BM]\.?(?:A|S|Sc|SN|N|Eng|Ed|Phil|Arch)|MBA|Ph\.?D|LL[BM]|JD|MD)\.?")  # "BSN", "MSc"


YEAR = r"(?:19|20)\d\d"
MONTH = r"(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+)?"
ONGOING = r"(?:present|now|current|today)"  # how a dated span that has not ended is closed
PRESENT = re.compile(rf"\b{ONGOING}\b", re.IGNORECASE)
DATE_RANGE = re.compile(rf"{MONTH}{YEAR}\s*[–—-]\s*(?:{ONGOING}|{MONTH}{YEAR})\b",
                        re.IGNORECASE)
# contact details: an e-mail, a web address, a phone number ("+44 7700 900418", "(510) 555-0148", "07700 900835")
CONTACT = re.compile(r"\S+@\S+|\b(?:https?://|www\.|linkedin\.com|github\.com)\S*|(?:\+|\(|\b0)\d[\d ().-]{6,}\d"
                     r"|\b\d{3}[-.]\d{3}[-.]\d{4}\b", re.IGNORECASE)
# a résumé line with a year (a job, a degree) or contact details: what the applicant did or where, not a skill
DATED_OR_CONTACT = re.compile(rf"\b{YEAR}\b|{CONTACT.pattern}", re.IGNORECASE)


def resume_skill_lines(resume: str) -> str:
    return "\n".join(line for line in resume.splitlines() if not DATED_OR_CONTACT.search(line))


def resume_role_parts(resume: str) -> list[str]:
    """The titles, employers and schools of a résumé's dated lines ('Analyst, Kestrel Systems, 2017–present' ->
    ['analyst', 'kestrel systems']): names of where the applicant was, not things they have."""
    parts = []
    for line in resume.splitlines():
        if re.search(rf"\b{YEAR}\b", line):
            parts += [part.strip(" .").lower() for part in re.split(r"[,|—–()]|\s-\s", DATE_RANGE.sub("", line))
                      if part.strip(" .") and not re.search(r"\d", part)]
    return list(dict.fromkeys(parts))


def current_job(resume: str) -> list[str]:
    """The title and employer of the résumé's job that runs to the present ('Backend Engineer | Northfield Partners
    | Sep 2013 – Present' -> ['backend engineer', 'northfield partners']); none where no dated line does."""
    for line in resume.splitlines():
        if (span := DATE_RANGE.search(line)) and PRESENT.search(span.group(0)):
            return resume_role_parts(line)
    return []


def profile_skills(profile: letter.Profile) -> list[str]:
    """The skills typed in; when that field is left to the résumé, the résumé's lines and list items without
    their headings, its dated lines (jobs, degrees) and contact details, and not its name, the company or the
    title (every letter says those: the skill rule would pass for free)."""
    if profile.skills.strip():
        return listed_skills(profile.skills)
    given = {profile.name.lower(), profile.company_name.lower(), profile.job_title.lower(), *RESUME_HEADINGS}
    items = (item.rpartition(": ")[2] for item in listed_skills(resume_skill_lines(profile.resume)))
    return [item for item in items if item not in given]  # "skills: sql" -> "sql"
