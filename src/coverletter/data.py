"""FineTome-style ShareGPT data: load, check, clean, standardize, render with the chat template, mask;
and cover-letter tables (`ShashiVish/cover-letter-dataset`) turned into the same chat examples.

Rows look like `{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", ...}], "source", "score"}`.
They become `{"messages": [{"role": "user", "content": ...}, ...]}` (the schema `apply_chat_template` takes),
then `input_ids` plus an `assistant_masks` column that TRL's SFTTrainer turns into labels (-100 elsewhere),
so the loss is on the assistant's tokens only, as unsloth's `train_on_responses_only` does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import letter
from .config import DataArguments, UserError

logger = logging.getLogger(__name__)

ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}


# --------------------------------------------------------------------------- loading


def load_rows(dataset_name: str, split: str = "train") -> list:
    """Raw rows from a local JSONL/JSON/Parquet file or from the Hub (`mlabonne/FineTome-100k`).

    Local JSONL is read line by line so that one bad line is a skipped row, not a failed load.
    """
    path = Path(dataset_name).expanduser()
    if path.suffix in LOCAL_FORMATS:
        if not path.is_file():
            raise UserError(f"dataset file not found: {path}")
        if path.suffix == ".jsonl":
            return [parse_json_line(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return list(load_hf_dataset(LOCAL_FORMATS[path.suffix], data_files=str(path), split="train"))
    if path.exists():
        raise UserError(f"unsupported dataset file {path}: use .jsonl, .json or .parquet")
    return list(load_hf_dataset(dataset_name, split=split))


def load_hf_dataset(name: str, **kwargs):
    from datasets import load_dataset

    try:
        return load_dataset(name, **kwargs)
    except Exception as err:  # datasets raises many types for "offline" and "no such repo"
        raise UserError(
            f"could not load dataset '{name}' ({type(err).__name__}: {str(err).splitlines()[0][:200]}). "
            "If the Hugging Face Hub is unreachable, pass a local file: --dataset_name data/finetome-sample.jsonl"
        ) from None


def parse_json_line(line: str):
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return InvalidJson(line[:80])


@dataclass
class InvalidJson:
    head: str


# --------------------------------------------------------------------------- checking and standardizing


class Malformed(ValueError):
    """A row that cannot be trained on; the message is its reason, counted in the report."""


def standardize(row) -> dict:
    """One ShareGPT row -> {"messages": [{role, content}], "source", "score"}, or raise Malformed."""
    if isinstance(row, InvalidJson):
        raise Malformed("invalid JSON")
    if not isinstance(row, dict):
        raise Malformed("row is not an object")
    if "conversations" not in row:
        raise Malformed("missing 'conversations'")
    turns = row["conversations"]
    if not isinstance(turns, list):
        raise Malformed("'conversations' is not a list")
    if not turns:
        raise Malformed("empty conversation")
    messages = [standardize_turn(turn) for turn in turns]
    check_turn_order([m["role"] for m in messages])
    return {"messages": messages, "source": check_source(row.get("source")), "score": check_score(row.get("score"))}


def standardize_turn(turn) -> dict:
    if not isinstance(turn, dict):
        raise Malformed("turn is not an object")
    role = turn.get("from", turn.get("role"))
    content = turn.get("value", turn.get("content"))
    if role is None:
        raise Malformed("turn without 'from'")
    if not isinstance(role, str):
        raise Malformed("'from' is not a string")
    if role not in ROLES:
        raise Malformed(f"unknown role '{role[:20]}'")
    if content is None:
        raise Malformed("turn without 'value'")
    if not isinstance(content, str):
        raise Malformed("'value' is not a string")
    if not content.strip():
        raise Malformed("empty 'value'")
    return {"role": ROLES[role], "content": content}


def check_turn_order(roles: list[str]) -> None:
    if "system" in roles[1:]:
        raise Malformed("system turn after the start")
    dialogue = roles[1:] if roles[0] == "system" else roles
    if "assistant" not in dialogue:
        raise Malformed("no assistant turn")
    if dialogue[0] != "user":
        raise Malformed("does not start with a user turn")
    if any(a == b for a, b in zip(dialogue, dialogue[1:])):
        raise Malformed("turns do not alternate")
    if dialogue[-1] != "assistant":
        raise Malformed("does not end with an assistant turn")


def check_source(source):
    if source is not None and not isinstance(source, str):
        raise Malformed("'source' is not a string")
    return source


def check_score(score):
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        raise Malformed("'score' is not a finite number")
    return float(score)


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
            f"data: read {self.read} rows, kept {self.kept}; skipped {skipped} malformed{reason_counts(self.malformed)}; "
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
                       limit: int | None = None) -> tuple[list[dict], CleaningReport]:
    """Rows of a cover-letter table (Hub id or local file) as chat examples: the app's own prompt for the row's
    facts, and the row's letter as the answer. Rows with an empty field, facts the form would refuse, or a
    placeholder in the letter are skipped and counted. `limit` keeps only the first N usable rows."""
    return table_examples(load_rows(source, split), columns, source, limit)


def table_examples(rows: list, columns: dict[str, str | list[str]], source: str,
                   limit: int | None = None) -> tuple[list[dict], CleaningReport]:
    columns = {key: [names] if isinstance(names, str) else list(names) for key, names in columns.items()}
    check_columns(columns, dataset_columns(rows), source)
    report = CleaningReport(read=len(rows))
    examples = []
    for row in rows:
        try:
            example = cover_letter_example(row, columns, source)
        except Malformed as why:
            report.malformed[str(why)] += 1
            continue
        report.before.add(example)
        if letter.PLACEHOLDER.search(example["messages"][-1]["content"]):
            report.dropped["letter has a placeholder"] += 1
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


def cover_letter_example(row, columns: dict[str, list[str]], source: str) -> dict:
    """One table row -> {"messages": [system, user, assistant], "source", "score": None}, or raise Malformed."""
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
    return {"messages": messages, "source": source, "score": None}


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


# --------------------------------------------------------------------------- chat template and loss mask


@dataclass(frozen=True)
class TurnMarkers:
    """The rendered text that opens and closes an assistant turn, e.g. '<|im_start|>assistant\\n' / '<|im_end|>'."""

    response_template: str
    end_of_turn: str


def detect_markers(tokenizer, args: DataArguments | None = None) -> TurnMarkers:
    """Find the assistant-turn markers from the tokenizer's own chat template (recipe values win)."""
    probe_user = [{"role": "user", "content": "Hi"}]
    without = tokenizer.apply_chat_template(probe_user, tokenize=False)
    with_prompt = tokenizer.apply_chat_template(probe_user, tokenize=False, add_generation_prompt=True)
    response_template = with_prompt[len(without):] if with_prompt.startswith(without) else ""

    answer = "QXZ-answer"
    rendered = tokenizer.apply_chat_template(probe_user + [{"role": "assistant", "content": answer}], tokenize=False)
    after = rendered[rendered.rindex(answer) + len(answer):]
    after_ids = tokenizer(after, add_special_tokens=False)["input_ids"]
    end_of_turn = tokenizer.decode(after_ids[:1]) if after_ids else ""

    response_template = (args and args.response_template) or response_template
    end_of_turn = (args and args.end_of_turn) or end_of_turn
    if not response_template or not end_of_turn:
        raise UserError(
            "could not detect where assistant turns start and end in this chat template; "
            "set response_template and end_of_turn in the recipe"
        )
    return TurnMarkers(response_template, end_of_turn)


def assistant_char_spans(text: str, markers: TurnMarkers) -> list[tuple[int, int]]:
    """Character spans of each assistant answer, its end-of-turn marker included (the model must learn to stop)."""
    spans, start = [], 0
    while (found := text.find(markers.response_template, start)) != -1:
        begin = found + len(markers.response_template)
        end = text.find(markers.end_of_turn, begin)
        end = len(text) if end == -1 else end + len(markers.end_of_turn)
        spans.append((begin, end))
        start = end
    return spans


def tokenize_with_mask(tokenizer, messages: list[dict], markers: TurnMarkers) -> dict:
    """Render with the chat template and mark the tokens that lie inside an assistant answer."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    spans = assistant_char_spans(text, markers)
    mask = [int(any(b <= start and end <= e for b, e in spans) and end > start) for start, end in encoded["offset_mapping"]]
    return {"input_ids": encoded["input_ids"], "assistant_masks": mask}


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
    """'synthetic' -> the generator; rows in the FineTome schema -> as they are; any other table -> through
    cover_letter_columns (default: the ShashiVish/cover-letter-dataset layout). Cover letters are not scored:
    generated and FineTome-schema ones go through the cleaning options but min_score; tables are checked by
    `table_examples` (empty fields, invalid profiles, placeholders) and not deduplicated."""
    letter_args = replace(args, min_score=None, max_samples=args.cover_letter_samples)
    if args.cover_letters == "synthetic":
        from .synthetic import generate

        return clean(generate(args.cover_letter_samples, args.cover_letter_seed), letter_args)
    rows = load_rows(args.cover_letters, args.dataset_split)
    if not args.cover_letter_columns and rows and isinstance(rows[0], dict) and "conversations" in rows[0]:
        return clean(rows, letter_args)
    columns = parse_columns(args.cover_letter_columns) if args.cover_letter_columns else DEFAULT_COVER_LETTER_COLUMNS
    return table_examples(rows, columns, args.cover_letters, args.cover_letter_samples)


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


def tokenize_dataset(tokenizer, examples: list[dict], report: CleaningReport, args: DataArguments, max_length: int | None):
    """The `datasets.Dataset` of input_ids + assistant_masks that SFTTrainer takes (report updated in place)."""
    from datasets import Dataset

    markers = detect_markers(tokenizer, args)
    tokenized, trained = [], []
    for example in examples:
        row = tokenize_with_mask(tokenizer, example["messages"], markers)
        if not any(row["assistant_masks"][:max_length]):
            report.dropped[f"no answer within max_length {max_length}"] += 1
            continue
        tokenized.append(row)
        trained.append(example)
    report.kept = len(tokenized)
    report.after = ConversationStats.of(trained)
    if not tokenized:
        raise UserError(f"no usable rows in {args.dataset_name}: {report.line()}")
    return Dataset.from_list(tokenized)
