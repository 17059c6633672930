"""Renamed copies of the written letters, which keep their prose as it was written: the same letter by another
applicant of the training split, to a company with another's brand, renamed consistently wherever the name or
the brand appears (the profile, the résumé, the ad, the letter, an e-mail address), never a skill or a number.

A row is left as it is when a word of its applicant's name or its company's brand is also a common word of the
corpus ("Grace", "Hope", "Summit"), or one of its skills: renaming it could change a sentence's meaning. A copy that
would fail the rubric is dropped. Employers in a résumé keep their names: which words of a dated line are an
employer, and which a title, is not known well enough to rename them safely.
"""

from __future__ import annotations

import random
import re

from .. import letter, rubric

NAME_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")  # a word of a name: letters, with hyphens or apostrophes inside
COMMON_WORD = re.compile(r"(?<![\w-])[a-z][a-z'’-]+(?![\w-])")
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")  # names in lower case there are still names


def brand(company: str) -> str | None:
    """The word that names a company, 'Greyfinch' of 'Greyfinch Genomics' ('The' aside); None if it is not a word."""
    words = company.split()
    word = words[1] if words[0] == "The" and len(words) > 1 else words[0]
    return word if NAME_WORD.match(word) and word[0].isupper() else None


def common_words(texts) -> set[str]:
    """Every word the texts use in lower case: names that are also such words stay as they are."""
    return {word for text in texts for word in COMMON_WORD.findall(ADDRESS.sub(" ", text))}


def renamable(profile: letter.Profile, common: set[str]) -> list[str] | None:
    """The words to rename (the name's, then the brand), or None when one of them is ambiguous."""
    words = [*profile.name.split(), brand(profile.company_name)]
    skills = profile.skills.lower()
    if None in words or any(not NAME_WORD.match(w) or w.lower() in common or w.lower() in skills for w in words):
        return None
    return words


def cased_like(new: str, old: str) -> str:
    return new.lower() if old.islower() else new.upper() if old.isupper() and len(old) > 1 else new


def rename(text: str, mapping: dict[str, str]) -> str:
    """Each whole word of the mapping replaced at once (no chain of renames), in the case it had: 'Rasmus',
    'rasmus.holmgaard@...'."""
    if not text:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, mapping)) + r")(?![\w-])", re.IGNORECASE)

    def renamed(found: str) -> str:  # matched without case, as the regex does ('yildirim' for 'Yıldırım')
        new = next(new for old, new in mapping.items() if re.fullmatch(re.escape(old), found, re.IGNORECASE))
        return cased_like(new, found)

    return pattern.sub(lambda m: renamed(m.group(0)), text)


def renamed_copy(text: str, profile: letter.Profile, words: list[str], other: list[str]) -> tuple[str, letter.Profile]:
    mapping = dict(zip(words, other))
    fields = {key: rename(value, mapping) for key, value in profile.as_dict().items()}
    return rename(text, mapping), letter.make_profile(**fields)


def augment(pairs: list[tuple[str, letter.Profile]], copies: int, seed: int = 0) -> list[tuple[str, letter.Profile]]:
    """`copies` renamed copies of each letter whose names can be renamed safely, each with another applicant's
    name (of as many words) and another company's brand, from the same letters."""
    if copies <= 0:
        return []
    rng = random.Random(seed)
    common = common_words(text for text, _ in pairs)
    usable = [(text, profile, words) for text, profile in pairs if (words := renamable(profile, common))]
    out = []
    for text, profile, words in usable:
        names = [w[:-1] for _, p, w in usable if len(w) == len(words) and p.name != profile.name]
        brands = sorted({w[-1] for _, _, w in usable} - {words[-1]})
        for _ in range(copies if names and brands else 0):
            new_text, new_profile = renamed_copy(text, profile, words, [*rng.choice(names), rng.choice(brands)])
            if all(rubric.score_letter(new_text, new_profile).values()):
                out.append((new_text, new_profile))
    return out
