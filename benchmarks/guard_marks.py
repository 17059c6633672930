"""The marks a guard can leave on a letter, which the rubric does not read: a skill named twice, begun again and
bent into a near word ("dry needs" for dry needling, "Terraforms"); a word whose case breaks inside it
("physiotheraPy"); a double space inside a line ("I have  years").

    python benchmarks/guard_marks.py runs/letters/written/eval/report.json [...]

Reads the letters of `coverletter evaluate` reports and prints each mark found, then the count of letters with
one. A scan, not a rule: each hit is to be read (docs/experiments.md).
"""

from __future__ import annotations

import argparse
import json
import re

from coverletter import facts, letter, prose

CASE_BREAK = re.compile(r"\b[a-z]{2,}[A-Z][a-z]+\b")  # "physiotheraPy"; not "iPhone" (one lower-case letter first)
DOUBLE_SPACE = re.compile(r"\S {2,}\S")


def bent_skills(text: str, profile: letter.Profile) -> list[str]:
    """After a skill's second mention: its first word followed by a near word ("dry needs"), or for a one-word
    skill a word that begins as it does and is not it ("Terraforms")."""
    found = []
    for skill in {s.lower() for s in facts.profile_skills(profile) if len(s) > 1}:
        spans = [m.start() for m in prose.mention_pattern(skill).finditer(text)]
        if len(spans) < prose.MAX_MENTIONS:
            continue
        after = text[spans[prose.MAX_MENTIONS - 1]:]
        first, *rest = skill.split()
        if rest:
            for m in re.finditer(rf"(?<!\w){re.escape(first)}\s+(\w+)", after, re.IGNORECASE):
                if not skill.startswith(m.group(0).lower()) and m.group(1).lower()[:3] == rest[0][:3]:
                    found.append(f"{m.group(0)} ({skill})")
        elif len(skill) > 5:
            for m in re.finditer(rf"(?<!\w){re.escape(skill[:4])}\w*", after, re.IGNORECASE):
                if m.group(0).lower() not in (skill, skill + "s") and not skill.startswith(m.group(0).lower()):
                    found.append(f"{m.group(0)} ({skill})")
    return found


def marks(text: str, profile: letter.Profile) -> list[str]:
    return [*bent_skills(text, profile), *CASE_BREAK.findall(text), *(f"'{m}'" for m in DOUBLE_SPACE.findall(text))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+")
    for path in parser.parse_args().reports:
        rows = json.loads(open(path, encoding="utf-8").read())["letters"]
        marked = 0
        for row in rows:
            if found := marks(row["letter"], letter.make_profile(**row["profile"])):
                marked += 1
                print(f"  {row['profile']['name']}: {'; '.join(found)}")
        print(f"{path}: {marked} of {len(rows)} letters with a mark")


if __name__ == "__main__":
    main()
