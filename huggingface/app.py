"""Hugging Face Space entry point: the cover-letter form (the UI lives in coverletter.app)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the Space carries a copy of the package beside this file
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "src"))  # or run from a checkout of the repository

from coverletter.app import serve  # noqa: E402

if __name__ == "__main__":
    serve(host="0.0.0.0" if "SPACE_ID" in os.environ else None)
