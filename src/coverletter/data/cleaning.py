"""Cleaning: the recipe's filters (score, length, exact and near duplicates) and the before/after data report."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DataArguments
from ..errors import UserError
from .sharegpt import Malformed, standardize

# --------------------------------------------------------------------------- cleaning


@dataclass
class ConversationStats:
    """Sizes and scores of a set of conversations: one column of the before/after table."""

    chars: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    unscored: int = 0

    @classmethod
    def of(cls, examples: list[dict]) -> ConversationStats:
        stats = cls()
        for example in examples:
            stats.add(example)
        return stats

    def add(self, example: dict) -> None:
        self.chars.append(conversation_chars(example["messages"]))
        if example["score"] is None:
            self.unscored += 1
        else:
            self.scores.append(example["score"])

    def extend(self, other: ConversationStats) -> None:
        self.chars += other.chars
        self.scores += other.scores
        self.unscored += other.unscored

    @property
    def rows(self) -> int:
        return len(self.chars)

    def summary(self) -> dict:
        def rounded(values, function, digits):
            return round(function(values), digits) if values else None

        return {
            "rows": self.rows,
            "chars_mean": rounded(self.chars, statistics.fmean, 1),
            "chars_median": rounded(self.chars, statistics.median, 1),
            "score_mean": rounded(self.scores, statistics.fmean, 2),
            "score_median": rounded(self.scores, statistics.median, 2),
            "score_min": rounded(self.scores, min, 2),
            "score_max": rounded(self.scores, max, 2),
            "unscored": self.unscored,
        }


@dataclass
class CleaningReport:
    """What cleaning read, skipped and dropped, and the kept data next to the well-formed data it came from."""

    read: int = 0
    kept: int = 0
    malformed: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    before: ConversationStats = field(default_factory=ConversationStats)
    after: ConversationStats = field(default_factory=ConversationStats)

    def line(self) -> str:
        skipped = sum(self.malformed.values())
        filtered = sum(self.dropped.values())
        return (
            f"data: read {self.read} rows, kept {self.kept}; "
            f"skipped {skipped} malformed{reason_counts(self.malformed)}; "
            f"filtered {filtered}{reason_counts(self.dropped)}"
        )

    def markdown(self) -> str:
        """The data before and after cleaning as a small Markdown table, with the reasons rows went."""
        before, after = self.before.summary(), self.after.summary()

        def table_row(label: str, render) -> str:
            return f"| {label} | {render(before)} | {render(after)} |"

        lines = [
            "| | before | after |",
            "|---|--:|--:|",
            f"| rows | {self.read:,} | {self.kept:,} |",
            table_row("conversation characters, mean", lambda s: number(s["chars_mean"], "{:,.0f}")),
            table_row("conversation characters, median", lambda s: number(s["chars_median"], "{:,.0f}")),
            table_row("score, mean", lambda s: number(s["score_mean"], "{:.2f}")),
            table_row("score, median (min–max)", score_range),
            table_row("rows without a score", lambda s: f"{s['unscored']:,}"),
            "",
            f"Skipped {sum(self.malformed.values()):,} malformed{reason_counts(self.malformed)}; "
            f"filtered {sum(self.dropped.values()):,}{reason_counts(self.dropped)}.",
        ]
        if self.before.rows != self.read:
            lines.append(f"Characters and scores before cleaning are over the {self.before.rows:,} well-formed rows "
                         "that were examined.")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict:
        return {"read": self.read, "kept": self.kept, "malformed": dict(self.malformed), "dropped": dict(self.dropped),
                "before": self.before.summary(), "after": self.after.summary()}

    def write(self, path: str | Path) -> tuple[Path, Path]:
        """Save the report as Markdown at `path` (e.g. output_dir/data_report.md) and as JSON beside it."""
        markdown_path = Path(path)
        json_path = markdown_path.with_suffix(".json")
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text("# Training data\n\n" + self.markdown(), encoding="utf-8")
        json_path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        return markdown_path, json_path


def reason_counts(counter: Counter) -> str:
    return " (" + ", ".join(f"{n} {why}" for why, n in counter.most_common()) + ")" if counter else ""


def number(value, template: str) -> str:
    return "–" if value is None else template.format(value)


def score_range(summary: dict) -> str:
    if summary["score_median"] is None:
        return "–"
    return f"{summary['score_median']:.2f} ({summary['score_min']:.2f}–{summary['score_max']:.2f})"


def conversation_chars(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages)


def clean(rows: list, args: DataArguments) -> tuple[list[dict], CleaningReport]:
    """Standardize every row; drop malformed ones and those the cleaning options reject, counting why."""
    report = CleaningReport(read=len(rows))
    kept, seen = [], set()
    near = NearDuplicates(args.near_dedupe_threshold) if args.near_dedupe_threshold is not None else None
    for row in rows:
        try:
            example = standardize(row)
        except Malformed as why:
            report.malformed[str(why)] += 1
            continue
        report.before.add(example)
        reason = rejection_reason(example, args, seen, near)
        if reason:
            report.dropped[reason] += 1
            continue
        kept.append(example)
        if args.max_samples is not None and len(kept) >= args.max_samples:
            break
    report.kept = len(kept)
    report.after = ConversationStats.of(kept)
    return kept, report


def rejection_reason(example: dict, args: DataArguments, seen: set, near: NearDuplicates | None = None) -> str | None:
    """Why the cleaning options drop this example, or None; `seen` and `near` remember the examples kept so far."""
    messages = example["messages"]
    if args.min_score is not None and (example["score"] is None or example["score"] < args.min_score):
        return f"score below {args.min_score}"
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    if min(len(a.strip()) for a in answers) < args.min_response_chars:
        return f"answer shorter than {args.min_response_chars} chars"
    if args.max_conversation_chars is not None and conversation_chars(messages) > args.max_conversation_chars:
        return f"longer than {args.max_conversation_chars} chars"
    if args.dedupe:
        key = hashlib.sha1(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        if key in seen:
            return "duplicate"
        seen.add(key)
    if near is not None and near.seen(" ".join(m["content"] for m in messages)):
        return "near duplicate"
    return None


# --------------------------------------------------------------------------- near duplicates

NUM_PERM = 128
MINHASH_SEED = 1  # fixed, so the same data loses the same rows on every run
SHINGLE_WORDS = 3


class NearDuplicates:
    """MinHash signatures of the conversations kept so far, indexed with LSH so that a new conversation is
    compared only with likely matches, not with every kept one."""

    def __init__(self, threshold: float):
        if not 0 < threshold <= 1:
            raise UserError(f"near_dedupe_threshold must be above 0 and at most 1 (e.g. 0.8), got {threshold}")
        try:
            from datasketch import MinHashLSH
        except ImportError:
            raise UserError("near_dedupe_threshold needs the datasketch package: pip install datasketch") from None

        self.threshold = threshold
        # LSH at the threshold itself misses many pairs just above it; a looser index finds them as candidates,
        # and each candidate is then held to the threshold
        self.index = MinHashLSH(threshold=max(threshold - 0.1, 0.05), num_perm=NUM_PERM)
        self.signatures = []  # hash values only: a whole MinHash object per kept row would cost several times more

    def seen(self, text: str) -> bool:
        """Whether `text` is a near duplicate of a conversation added earlier; if it is not, add it."""
        signature = minhash(text)
        values = signature.hashvalues
        candidates = self.index.query(signature)
        if any(estimated_jaccard(values, self.signatures[key]) >= self.threshold for key in candidates):
            return True
        self.index.insert(len(self.signatures), signature)
        self.signatures.append(values)
        return False


def minhash(text: str):
    from datasketch import MinHash

    signature = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    signature.update_batch(s.encode("utf-8") for s in shingles(text))
    return signature


def shingles(text: str) -> set[str]:
    """Word 3-grams of the lowercased words, so that case, spacing and punctuation do not tell texts apart."""
    words = re.findall(r"\w+", text.lower())
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words)}
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def estimated_jaccard(a, b) -> float:
    """The share of equal MinHash values estimates the Jaccard similarity (standard error 0.035 at 0.8)."""
    return float((a == b).mean())
