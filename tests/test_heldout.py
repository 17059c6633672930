"""Held-out losses: scored once per model file and exact tokens, read back after."""

from __future__ import annotations

import os

import numpy as np
import pytest

from coverletter import heldout


@pytest.fixture
def scoring(monkeypatch, tmp_path):
    """A stand-in GGUF file and a scorer that counts how often the model is run (uniform logits over 4 tokens)."""
    gguf = tmp_path / "model.Q8_0.gguf"
    gguf.write_bytes(b"GGUF")
    calls = []

    def logits(path, sequences):
        calls.append(path)
        return [np.zeros((len(ids), 4), dtype=np.float32) for ids in sequences]

    monkeypatch.setattr(heldout, "gguf_logits", logits)
    return gguf, calls


def test_a_loss_is_scored_once_per_model_and_tokens(scoring):
    gguf, calls = scoring
    first = heldout.remembered_loss(gguf, [[0, 1, 2, 3]])
    assert first == pytest.approx(np.log(4))
    assert heldout.remembered_loss(gguf, [[0, 1, 2, 3]]) == first
    assert len(calls) == 1
    heldout.remembered_loss(gguf, [[0, 1, 2, 3]], [2])  # other tokens scored: a new key
    heldout.remembered_loss(gguf, [[0, 1, 2]])
    assert len(calls) == 3
    assert len(heldout.read_losses(gguf.with_name(gguf.name + ".losses.json"))) == 3


def test_a_new_model_file_or_a_damaged_cache_is_scored_again(scoring):
    gguf, calls = scoring
    heldout.remembered_loss(gguf, [[0, 1, 2, 3]])
    stat = gguf.stat()
    os.utime(gguf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # exported again
    heldout.remembered_loss(gguf, [[0, 1, 2, 3]])
    gguf.with_name(gguf.name + ".losses.json").write_text("{not json")
    heldout.remembered_loss(gguf, [[0, 1, 2, 3]])
    assert len(calls) == 3


def test_a_read_only_model_folder_still_gets_its_loss(scoring, monkeypatch):
    gguf, calls = scoring

    def refuse(self, *args, **kwargs):
        raise PermissionError(self)

    monkeypatch.setattr(type(gguf), "write_text", refuse)
    assert heldout.remembered_loss(gguf, [[0, 1, 2, 3]]) == pytest.approx(np.log(4))
