"""The written letters (`data/letters/`): one applicant per row, the app's fields and the letter a careful writer
composed for them (docs/data.md). Each row becomes the app's own prompt and its letter as the answer.

A row with a missing or empty field, a profile the form would refuse, a letter that fails the rubric or an
applicant already seen is named (file, line, why), skipped and counted; the rest trains.

    python -m coverletter.data.letters check data/letters/train.jsonl   # each failing row, and shared sentences
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections import Counter
from pathlib import Path

from .. import facts, letter, prose, rubric, runs
from ..config import LettersArguments, parse_action_args
from ..errors import CheckFailed
from .augment import augment
from .cleaning import CleaningReport, ConversationStats
from .sharegpt import InvalidJson, parse_json_line

logger = logging.getLogger(__name__)

LETTERS = runs.DATA / "letters"
TRAIN, HELDOUT = LETTERS / "train.jsonl", LETTERS / "heldout.jsonl"
TEXT_FIELDS = ("name", "job_title", "company_name", "reasons", "tone", "length", "letter")  # never empty
FIELDS = (*TEXT_FIELDS, "skills", "job_description", "resume")


class Rejected(ValueError):
    """Why a row cannot be trained on (its message), counted in the report."""


def read_rows(path: Path) -> list[tuple[int, dict | None, str]]:
    """(line number, the row or None, why not) for each non-blank line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = parse_json_line(line)
            why = ("invalid JSON" if isinstance(row, InvalidJson) else
                   "" if isinstance(row, dict) else "row is not an object")
            rows.append((number, None if why else row, why))
    return rows


def row_profile(row: dict) -> letter.Profile:
    """The row's profile as the form makes it; raise Rejected naming the missing, empty or invalid field."""
    missing = [key for key in FIELDS if key not in row]
    if missing:
        raise Rejected(f"missing {', '.join(missing)}")
    if any(not isinstance(row[key], str) for key in FIELDS):
        raise Rejected("a field that is not text")
    empty = [key for key in TEXT_FIELDS if not row[key].strip()]
    if empty or not (row["skills"].strip() or row["resume"].strip()):
        raise Rejected(f"empty {', '.join(empty or ['skills and resume'])}")
    try:
        return letter.make_profile(**{key: row[key] for key in FIELDS if key != "letter"})
    except letter.InvalidProfile as why:
        raise Rejected(f"invalid profile: {why}") from None


def failures(text: str, profile: letter.Profile) -> list[str]:
    """The rubric's failed rules, each with what broke it."""
    judged = rubric.judge(text, profile)
    details = {"faithful": judged["invented"], "grammatical": judged["misplaced"], **{
        rule: judged["habits"] for rule in rubric.HABITS}}
    return [f"{rule} ({details[rule]})" if details.get(rule) else rule
            for rule, ok in judged["rules"].items() if not ok]


def read_letters(path: str | Path = TRAIN) -> tuple[list[tuple[str, letter.Profile]], CleaningReport]:
    """(letter, profile) for each usable row, and a report of the rest (each skipped row also logged)."""
    path = Path(path)
    report, pairs, seen = CleaningReport(), [], set()
    for number, row, why in read_rows(path):
        report.read += 1
        try:
            if row is None:
                raise Rejected(why)
            profile = row_profile(row)
            if profile.name.lower() in seen:
                raise Rejected(f"duplicate applicant: {profile.name} already has a letter")
            failed = failures(row["letter"], profile)
            if failed:
                raise Rejected("letter fails the rubric: " + ", ".join(failed))
        except Rejected as reason:
            logger.warning("%s:%d skipped: %s", path, number, reason)
            report.dropped[str(reason).split(":")[0]] += 1
            continue
        seen.add(profile.name.lower())
        pairs.append((row["letter"], profile))
    return pairs, report


def load_letters(path: str | Path = TRAIN, copies: int = 0, seed: int = 0) -> tuple[list[dict], CleaningReport]:
    """The usable rows as chat examples ({"messages", "source", "score": None}): the app's prompt, the letter; then
    `copies` renamed copies of each (`data.augment`)."""
    pairs, report = read_letters(path)
    if copies:
        renamed = augment(pairs, copies, seed)
        logger.info("%s: %d renamed copies of %d letters", path, len(renamed), len(pairs))
        pairs += renamed
    examples = [{"messages": letter.build_messages(profile) + [{"role": "assistant", "content": text}],
                 "source": str(path), "score": None} for text, profile in pairs]
    for example in examples:
        report.before.add(example)
    report.kept = len(examples)
    report.after = ConversationStats.of(examples)
    return examples, report


# --------------------------------------------------------------------------- the corpus: split and statistics

HELDOUT_EVERY = 5  # an applicant whose name hashes to 0 modulo this is held out: about one in five, never trained on


def held_out(name: str) -> bool:
    return int(hashlib.sha1(name.strip().lower().encode()).hexdigest(), 16) % HELDOUT_EVERY == 0


def split(paths: list[Path]) -> tuple[int, int]:
    """Write every row of the files (the first of each id) to TRAIN or HELDOUT by its applicant, sorted by id; the
    rule depends on the name alone, so adding letters and splitting again never moves one across."""
    rows = {}
    for path in paths:
        for _, row, _ in read_rows(path):
            if row is not None:
                rows.setdefault(row.get("id", f"{path.stem}-{len(rows)}"), row)
    parts = {TRAIN: [], HELDOUT: []}
    for key in sorted(rows):
        parts[HELDOUT if held_out(str(rows[key].get("name", ""))) else TRAIN].append(rows[key])
    for path, part in parts.items():
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in part), encoding="utf-8")
    return len(parts[TRAIN]), len(parts[HELDOUT])


def full_resume(profile: letter.Profile) -> bool:
    """A résumé with jobs or degrees by their dates, not only a skill list."""
    return bool(re.search(rf"\b{facts.YEAR}\b", profile.resume))


def thin(profile: letter.Profile) -> bool:
    return not profile.resume and len(letter.skill_list(profile.skills)) <= 4


def statistics(paths: list[Path]) -> dict:
    """What the corpus holds: its rows by kind, its spread, and how it reads (distinct-3 with names masked)."""
    rows = [row for path in paths for _, row, _ in read_rows(path) if row is not None]
    pairs = [pair for path in paths for pair in read_letters(path)[0]]
    profiles = [profile for _, profile in pairs]
    words = sorted(letter.word_count(text) for text, _ in pairs)

    def share(test) -> float:
        return round(sum(map(test, profiles)) / max(1, len(profiles)), 3)

    return {"rows": len(rows), "usable": len(pairs), "industries": len({row.get("industry") for row in rows}),
            "levels": dict(Counter(row.get("level") for row in rows)), "tones": dict(Counter(p.tone for p in profiles)),
            "lengths": dict(Counter(p.length for p in profiles)), "with_ad": share(lambda p: bool(p.job_description)),
            "full_resume": share(full_resume), "thin": share(thin),
            "skills_left_to_resume": share(lambda p: bool(p.resume) and not p.skills),
            "words": {"min": words[0], "median": words[len(words) // 2], "max": words[-1]} if words else {},
            "distinct_3_masked": round(prose.distinct_n([prose.masked(t, p) for t, p in pairs]), 3),
            "shared_sentences": len(prose.shared_sentences(pairs)),
            "boilerplate_share": round(prose.boilerplate(pairs)[0], 3)}


# --------------------------------------------------------------------------- command line


def check(paths: list[Path]) -> int:
    """Print each failing row and each 8-word sentence that two letters share; the number of problems."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    problems, everything = 0, []
    for path in paths:
        pairs, report = read_letters(path)
        problems += report.read - len(pairs)
        everything += pairs
        print(f"{path}: {len(pairs)} of {report.read} rows pass")
    checked = {profile.name for _, profile in everything}
    logging.disable(logging.WARNING)  # the neighbours' own failures are theirs to report
    given = {path.resolve() for path in paths}
    neighbours = {other for path in paths for other in path.parent.glob("*.jsonl") if other.resolve() not in given}
    everything += [pair for path in sorted(neighbours) for pair in read_letters(path)[0]]
    for sentence, names in prose.shared_sentences(everything).items():
        if names & checked:
            problems += 1
            print(f"shared by {', '.join(sorted(names))}: {sentence}")
    return problems


ACTIONS = {"check": "each failing row and each sentence two letters share",
           "split": "write train.jsonl and heldout.jsonl from the files, by applicant",
           "stats": "the corpus's figures (docs/data.md)"}


def main(argv: list[str]) -> None:
    """`coverletter letters check|split|stats [--paths FILE ...]`."""
    action, (args,) = parse_action_args((LettersArguments,), argv, "letters", ACTIONS)
    paths = [Path(path) for path in args.paths] or [TRAIN, HELDOUT]
    if action == "split":
        print("train %d, held out %d" % split(paths))
    elif action == "stats":
        print(json.dumps(statistics(paths), indent=1))
    elif problems := check(paths):
        raise CheckFailed(f"{problems} problem(s) in {', '.join(map(str, paths))}: see the lines above")
