"""The training mixture: FineTome conversations and cover letters (synthetic, a table or FineTome-schema rows) in
the proportion the recipe asks for, with one report for both."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from pathlib import Path

from .. import synthetic
from ..config import DataArguments
from ..errors import UserError
from .cleaning import CleaningReport, ConversationStats, clean
from .cover_letters import DEFAULT_COVER_LETTER_COLUMNS, parse_columns, table_examples
from .letters import TRAIN, load_letters, read_rows
from .sharegpt import load_rows

logger = logging.getLogger(__name__)

def load_clean(args: DataArguments) -> tuple[list[dict], CleaningReport]:
    """Load, clean and mix, before any model is loaded, so that bad data fails fast."""
    examples, report = clean(load_rows(args.dataset_name, args.dataset_split), args)
    if args.cover_letters and args.cover_letter_fraction > 0:
        letters, letters_report = load_cover_letter_examples(args)
        logger.info("cover letters (%s): %s", args.cover_letters, letters_report.line())
        examples, report = mix(examples, report, letters, letters_report, args.cover_letter_fraction)
    if not examples:
        raise UserError(f"no usable rows in {args.dataset_name}: {report.line()}")
    return examples, report


def load_cover_letter_examples(args: DataArguments) -> tuple[list[dict], CleaningReport]:
    """Each source in `cover_letters` ('synthetic+ShashiVish/cover-letter-dataset' mixes two), up to
    cover_letter_samples from each, with one report."""
    examples, report = [], CleaningReport()
    for source in args.cover_letters.split("+"):
        more, more_report = load_cover_letter_source(source.strip(), args)
        examples += more
        report.read += more_report.read
        report.malformed.update(more_report.malformed)
        report.dropped.update(more_report.dropped)
        report.before.extend(more_report.before)
    report.kept = len(examples)
    report.after = ConversationStats.of(examples)
    return examples, report


def load_cover_letter_source(source: str, args: DataArguments) -> tuple[list[dict], CleaningReport]:
    """'written' -> the written letters' training split (`data.letters`), as is any file in their layout (the app's
    fields and "letter"); 'synthetic' -> the generator; rows in the FineTome schema -> as they are; any other
    table -> through cover_letter_columns (default: the ShashiVish/cover-letter-dataset layout). Cover letters are
    not scored: generated and FineTome-schema ones go through the cleaning options but min_score; written letters
    are held to the whole rubric and tables to `table_examples` (empty fields, invalid profiles, placeholders,
    invented facts); neither is deduplicated."""
    letter_args = replace(args, min_score=None, max_samples=args.cover_letter_samples)
    if source == "synthetic":
        return clean(synthetic.generate(args.cover_letter_samples, args.cover_letter_seed), letter_args)
    if source == "written" or is_written(source):
        examples, report = load_letters(TRAIN if source == "written" else source, args.cover_letter_augment,
                                        args.cover_letter_seed)
        return examples[:args.cover_letter_samples], report
    rows = load_rows(source, args.dataset_split)
    if not args.cover_letter_columns and rows and isinstance(rows[0], dict) and "conversations" in rows[0]:
        return clean(rows, letter_args)
    columns = parse_columns(args.cover_letter_columns) if args.cover_letter_columns else DEFAULT_COVER_LETTER_COLUMNS
    return table_examples(rows, columns, source, args.cover_letter_samples, args.cover_letters_faithful_only)


def is_written(source: str) -> bool:
    """A local JSONL file whose first row has the written letters' layout (the app's fields and "letter")."""
    path = Path(source)
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    first = next((row for _, row, _ in read_rows(path) if row is not None), None)
    return first is not None and {"letter", "name", "job_title", "company_name"} <= set(first)


def mix(finetome: list[dict], report: CleaningReport, letters: list[dict], letters_report: CleaningReport,
        fraction: float) -> tuple[list[dict], CleaningReport]:
    """FineTome and cover letters in the proportion asked for, cutting the larger side (the head of each list);
    one report for both, where the rows cut count as 'cut to a N% cover-letter mixture'."""
    if fraction >= 1:
        kept_letters, kept_finetome = len(letters), 0
    else:
        kept_letters = min(len(letters), math.floor(len(finetome) * fraction / (1 - fraction)))
        kept_finetome = len(finetome) if kept_letters < len(letters) else min(
            len(finetome), round(kept_letters * (1 - fraction) / fraction))
    cut = len(finetome) - kept_finetome + len(letters) - kept_letters
    if cut:
        report.dropped[f"cut to a {fraction:.0%} cover-letter mixture"] += cut
    report.read += letters_report.read
    report.malformed.update(letters_report.malformed)
    report.dropped.update(letters_report.dropped)
    report.before.extend(letters_report.before)
    mixed = finetome[:kept_finetome] + letters[:kept_letters]
    report.kept = len(mixed)
    report.after = ConversationStats.of(mixed)
    logger.info("mixture: %d cover letters + %d FineTome conversations (%.0f%% letters)", kept_letters,
                kept_finetome, 100 * kept_letters / max(1, len(mixed)))
    return mixed, report
