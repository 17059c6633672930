"""Cover-letter tables (`ShashiVish/cover-letter-dataset` and any other, through a column mapping) turned into
chat examples: the app's own prompt for the row's facts, the row's letter as the answer."""

from __future__ import annotations

import re

from .. import letter, rubric
from ..errors import UserError
from .cleaning import CleaningReport, ConversationStats
from .sharegpt import InvalidJson, Malformed, load_rows

# --------------------------------------------------------------------------- cover-letter datasets

COVER_LETTER_FIELDS = (*letter.REQUIRED, "job_description", "letter")
OPTIONAL_FIELDS = {"job_description"}

DEFAULT_COVER_LETTER_COLUMNS = {  # the layout of ShashiVish/cover-letter-dataset
    "name": "Applicant Name",
    "job_title": "Job Title",
    "company_name": "Hiring Company",
    # its letters cite the applicant's current and past jobs: left out of the prompt, they would teach the
    # model to invent employers, which the system message forbids; the app's Skills field holds experience too
    "skills": ["Skillsets", "Qualifications", "Current Working Experience", "Past Working Experience"],
    # there is no "why I apply" column; the letters argue the applicant's fit with the job's preferred
    # qualifications, the nearest thing to the app's "Reasons for applying"
    "reasons": "Preferred Qualifications",
    "letter": "Cover Letter",
}


def parse_columns(text: str) -> dict[str, str | list[str]]:
    """'name=Applicant Name,skills=Skillsets+Qualifications' -> {"name": "Applicant Name", "skills": [...]}.

    `+` joins several columns into one field; column names therefore cannot contain ',', '=' or '+'.
    """
    columns = {}
    for entry in text.split(","):
        key, equals, value = (part.strip() for part in entry.partition("="))
        names = [name.strip() for name in value.split("+")]
        if not equals or not key or not all(names):
            raise UserError(f"cannot read '{entry.strip()}' in the column mapping: write field=Column or "
                            "field=Column+Other, separated by commas, "
                            "e.g. 'name=Applicant Name,skills=Skillsets+Qualifications'")
        if key in columns:
            raise UserError(f"field '{key}' is mapped twice in the column mapping '{text}'")
        columns[key] = names[0] if len(names) == 1 else names
    return columns


def load_cover_letters(source: str, columns: dict[str, str | list[str]], split: str = "train",
                       limit: int | None = None, faithful_only: bool = True) -> tuple[list[dict], CleaningReport]:
    """Rows of a cover-letter table (Hub id or local file) as chat examples: the app's own prompt for the row's
    facts, and the row's letter as the answer. Rows with an empty field, facts the form would refuse, a
    placeholder in the letter or a letter that invents facts are skipped and counted. `limit` keeps only the
    first N usable rows."""
    return table_examples(load_rows(source, split), columns, source, limit, faithful_only)


def table_examples(rows: list, columns: dict[str, str | list[str]], source: str,
                   limit: int | None = None, faithful_only: bool = True) -> tuple[list[dict], CleaningReport]:
    """The usable rows as chat examples; with `faithful_only`, not those whose letter states a number, a
    credential or a name that its own row lacks (`rubric.invented_facts`): they would teach a model to invent."""
    columns = {key: [names] if isinstance(names, str) else list(names) for key, names in columns.items()}
    check_columns(columns, dataset_columns(rows), source)
    report = CleaningReport(read=len(rows))
    examples = []
    for row in rows:
        try:
            example, profile = cover_letter_example(row, columns, source)
        except Malformed as why:
            report.malformed[str(why)] += 1
            continue
        report.before.add(example)
        text = example["messages"][-1]["content"]
        if letter.PLACEHOLDER.search(text):
            report.dropped["letter has a placeholder"] += 1
            continue
        if faithful_only and any(rubric.invented_facts(text, profile).values()):
            report.dropped["letter states facts its row lacks"] += 1
            continue
        examples.append(example)
        if limit is not None and len(examples) >= limit:
            break
    report.kept = len(examples)
    report.after = ConversationStats.of(examples)
    return examples, report


def dataset_columns(rows: list) -> list[str]:
    return list(dict.fromkeys(key for row in rows if isinstance(row, dict) for key in row))


def check_columns(columns: dict[str, list[str]], known: list[str], source: str) -> None:
    """Fail before any row is converted on a mapping that names an unknown field or a column the data lacks."""
    unknown_fields = [key for key in columns if key not in COVER_LETTER_FIELDS]
    if unknown_fields:
        raise UserError(f"unknown field {', '.join(map(repr, unknown_fields))} in the column mapping; "
                        f"the fields are: {', '.join(COVER_LETTER_FIELDS)}")
    missing = [key for key in COVER_LETTER_FIELDS if key not in columns and key not in OPTIONAL_FIELDS]
    if missing:
        raise UserError(f"the column mapping has no {', '.join(missing)}: map each of "
                        f"{', '.join(k for k in COVER_LETTER_FIELDS if k not in OPTIONAL_FIELDS)} to a column")
    unknown_columns = [name for names in columns.values() for name in names if name not in known]
    if unknown_columns:
        raise UserError(f"column {', '.join(map(repr, unknown_columns))} is not in {source}; its columns are: "
                        f"{', '.join(map(repr, known)) or 'none (no readable rows)'}. Fix the column mapping "
                        "(cover_letter_columns)")


def cover_letter_example(row, columns: dict[str, list[str]], source: str) -> tuple[dict, letter.Profile]:
    """One table row -> ({"messages": [system, user, assistant], "source", "score": None}, its profile), or raise
    Malformed."""
    if isinstance(row, InvalidJson):
        raise Malformed("invalid JSON")
    if not isinstance(row, dict):
        raise Malformed("row is not an object")
    values = {key: column_text(row, names) for key, names in columns.items()}
    for key, names in columns.items():
        if not values[key] and key not in OPTIONAL_FIELDS:
            raise Malformed(f"empty {' + '.join(map(repr, names))}")
    text = values.pop("letter")
    try:
        profile = letter.make_profile(**values, tone="formal", length=length_of(text))
    except letter.InvalidProfile as why:  # the sizes in the message would make every row a reason of its own
        raise Malformed("invalid profile: " + re.sub(r"\s*\([^)]*\)", "", str(why))) from None
    messages = letter.build_messages(profile) + [{"role": "assistant", "content": text}]
    return {"messages": messages, "source": source, "score": None}, profile


def column_text(row: dict, names: list[str]) -> str:
    """The columns' text, joined by line breaks; a missing or blank column adds nothing."""
    parts = (letter.clean_field(row.get(name)) for name in names)
    return "\n".join(part for part in parts if part)


def length_of(text: str) -> str:
    """The form's length option whose word range holds the letter, else the nearest one."""
    words = letter.word_count(text)

    def distance(length: str) -> int:
        low, high = letter.LENGTHS[length]
        return max(low - words, 0, words - high)

    return min(letter.LENGTHS, key=distance)
