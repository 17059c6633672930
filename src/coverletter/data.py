"""FineTome-style ShareGPT data: load, check, clean, standardize, render with the chat template, mask.

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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

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
class CleaningReport:
    read: int = 0
    kept: int = 0
    malformed: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)

    def line(self) -> str:
        def detail(counter: Counter) -> str:
            return " (" + ", ".join(f"{n} {why}" for why, n in counter.most_common()) + ")" if counter else ""

        skipped = sum(self.malformed.values())
        filtered = sum(self.dropped.values())
        return (
            f"data: read {self.read} rows, kept {self.kept}; skipped {skipped} malformed{detail(self.malformed)}; "
            f"filtered {filtered}{detail(self.dropped)}"
        )


def clean(rows: list, args: DataArguments) -> tuple[list[dict], CleaningReport]:
    """Standardize every row; drop malformed ones and those the cleaning options reject, counting why."""
    report = CleaningReport(read=len(rows))
    kept, seen = [], set()
    for row in rows:
        try:
            example = standardize(row)
        except Malformed as why:
            report.malformed[str(why)] += 1
            continue
        reason = rejection_reason(example, args, seen)
        if reason:
            report.dropped[reason] += 1
            continue
        kept.append(example)
        if args.max_samples is not None and len(kept) >= args.max_samples:
            break
    report.kept = len(kept)
    return kept, report


def rejection_reason(example: dict, args: DataArguments, seen: set) -> str | None:
    messages = example["messages"]
    if args.min_score is not None and (example["score"] is None or example["score"] < args.min_score):
        return f"score below {args.min_score}"
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    if min(len(a.strip()) for a in answers) < args.min_response_chars:
        return f"answer shorter than {args.min_response_chars} chars"
    if args.max_conversation_chars is not None and sum(len(m["content"]) for m in messages) > args.max_conversation_chars:
        return f"longer than {args.max_conversation_chars} chars"
    if args.dedupe:
        key = hashlib.sha1(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        if key in seen:
            return "duplicate"
        seen.add(key)
    return None


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
    """Load and clean, before any model is loaded, so that bad data fails fast."""
    examples, report = clean(load_rows(args.dataset_name, args.dataset_split), args)
    if not examples:
        raise UserError(f"no usable rows in {args.dataset_name}: {report.line()}")
    return examples, report


def tokenize_dataset(tokenizer, examples: list[dict], report: CleaningReport, args: DataArguments, max_length: int | None):
    """The `datasets.Dataset` of input_ids + assistant_masks that SFTTrainer takes (report updated in place)."""
    from datasets import Dataset

    markers = detect_markers(tokenizer, args)
    tokenized = []
    for example in examples:
        row = tokenize_with_mask(tokenizer, example["messages"], markers)
        if not any(row["assistant_masks"][:max_length]):
            report.dropped[f"no answer within max_length {max_length}"] += 1
            continue
        tokenized.append(row)
    report.kept = len(tokenized)
    if not tokenized:
        raise UserError(f"no usable rows in {args.dataset_name}: {report.line()}")
    return Dataset.from_list(tokenized)
