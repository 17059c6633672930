"""Hugging Face Space entry point: the cover-letter form (the UI lives in coverletter.app)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the Space carries a copy of the package beside this file
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "src"))  # or run from a checkout of the repository

try:  # ZeroGPU hardware: `spaces` patches gradio when imported, so it comes first
    import spaces
except ImportError:  # the free CPU Space and local runs: no `spaces`, nothing to register
    spaces = None

from coverletter.app import serve  # noqa: E402

if spaces is not None:

    @spaces.GPU(duration=1)
    def zero_gpu_start_up_check() -> None:
        """Never called: ZeroGPU refuses to start a Space without one GPU function. The letters are written by
        llama.cpp on the host's CPU, which a ZeroGPU Space has too."""


if __name__ == "__main__":
    serve(host="0.0.0.0" if "SPACE_ID" in os.environ else None)
