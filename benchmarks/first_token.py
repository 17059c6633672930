"""What the deterministic prompt cache costs and saves: time to first token for the same letters, three ways.

    python benchmarks/first_token.py [--gguf PATH] [--profiles 6] [--rounds 3]

- reset: every prompt evaluated from the start (deterministic, re-reads the shared system turn every time);
- shared prefix: the app's `SharedPrefix` (the system turn evaluated once on its own; deterministic);
- llama.cpp's reuse: llama-cpp-python's own longest-prefix reuse (fastest, but a greedy letter depends on the
  letter before it).

Each round runs the three in turn over the same profiles, one profile after another as visitors come. Letters of
`--profiles` profiles from data/eval-profiles.jsonl at temperature 0; medians of the first-token times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from coverletter import generate, letter
from coverletter.embedded import embedded_gguf

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = {
    "reset": lambda prefix, messages: prefix.llm.reset(),
    "shared prefix (the app)": generate.SharedPrefix.prepare,
    "llama.cpp's reuse": lambda prefix, messages: None,
}


def first_token_seconds(writer: generate.LetterWriter, profile: letter.Profile) -> float:
    started = time.perf_counter()
    stream = writer.stream(profile, max_new_tokens=24)
    next(stream)
    seconds = time.perf_counter() - started
    stream.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, default=None, help="default: the embedded SmolLM2 GGUF")
    parser.add_argument("--profiles", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gguf = args.gguf or embedded_gguf("smollm2-135m-instruct")
    rows = [json.loads(line) for line in (ROOT / "data" / "eval-profiles.jsonl").read_text().splitlines()]
    profiles = [letter.make_profile(**row) for row in rows[:args.profiles]]
    times = {name: [] for name in STRATEGIES}
    with generate.LetterWriter.for_gguf(gguf) as writer:
        messages = letter.build_messages(profiles[0])
        print(f"{gguf.name}: prompt {len(writer.prefix.tokens(messages))} tokens, shared start "
              f"{len(writer.prefix.shared_start(messages))}")
        for _ in range(args.rounds):
            for name, prepare in STRATEGIES.items():  # one profile after another, as visitors come
                generate.SharedPrefix.prepare = prepare  # this benchmark's switch; the app's stays put
                times[name] += [first_token_seconds(writer, profile) for profile in profiles]
    print("| prompt handling | first token, median s | vs reset |\n|---|---:|---:|")
    base = statistics.median(times["reset"])
    for name, seconds in times.items():
        print(f"| {name} | {statistics.median(seconds):.3f} | {statistics.median(seconds) / base:.2f}x |")


if __name__ == "__main__":
    main()
