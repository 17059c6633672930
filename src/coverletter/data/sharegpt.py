"""FineTome-style ShareGPT rows: load them (Hub or local file), check each, standardize it to chat messages.

Rows look like `{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", ...}], "source", "score"}`
and become `{"messages": [{"role": "user", "content": ...}, ...], "source", "score"}`, the schema
`apply_chat_template` takes. A row that cannot be trained on raises `Malformed`, whose message is counted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError, first_line

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
            f"could not load dataset '{name}' ({type(err).__name__}: {first_line(err)}). "
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
