"""Training data, one module per job: `sharegpt` (load and check ShareGPT rows), `cleaning` (filters, near
duplicates, the data report), `cover_letters` (cover-letter tables), `mixing` (FineTome + cover letters) and
`masking` (chat template and assistant-only loss). The names below are what train and the notebook call.
"""

from .cleaning import CleaningReport, clean
from .cover_letters import DEFAULT_COVER_LETTER_COLUMNS, load_cover_letters, parse_columns
from .masking import TurnMarkers, detect_markers, tokenize_dataset, tokenize_with_mask
from .mixing import load_clean
from .sharegpt import InvalidJson, Malformed, load_rows, standardize

__all__ = ["CleaningReport", "DEFAULT_COVER_LETTER_COLUMNS", "InvalidJson", "Malformed", "TurnMarkers", "clean",
           "detect_markers", "load_clean", "load_cover_letters", "load_rows", "parse_columns", "standardize",
           "tokenize_dataset", "tokenize_with_mask"]
