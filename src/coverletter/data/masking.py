"""Chat template and loss mask: render with the tokenizer's own template, train on the assistant's tokens only
(end-of-turn marker included), as unsloth's `train_on_responses_only` does. SFTTrainer turns `assistant_masks`
into labels (-100 elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import DataArguments
from ..errors import UserError
from .cleaning import CleaningReport, ConversationStats

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
    mask = [int(any(b <= start and end <= e for b, e in spans) and end > start)
            for start, end in encoded["offset_mapping"]]
    return {"input_ids": encoded["input_ids"], "assistant_masks": mask}


def tokenize_dataset(tokenizer, examples: list[dict], report: CleaningReport, args: DataArguments,
                     max_length: int | None):
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
