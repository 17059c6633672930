"""What a command says when it stops: one line, no traceback (the command line prints these and exits)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input: shown as one line, without a traceback."""


def first_line(err: BaseException, limit: int = 200) -> str:
    """What an exception says, in one line short enough for a one-line error (its type when it says nothing)."""
    return str(err).splitlines()[0][:limit] if str(err).strip() else type(err).__name__


class CheckFailed(RuntimeError):
    """A result failed its own check (e.g. an exported GGUF disagrees with its source): exit 1, no traceback."""
