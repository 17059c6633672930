"""What the fact guard does and costs: the same letters decoded with and without `generate.FactGuard`.

    python benchmarks/fact_guard.py --gguf runs/demo/gguf/X.Q8_0.gguf [--profiles 32] [--out result.json]

For each profile of data/eval-profiles.jsonl, the letter at temperature 0 with the app's length steering, once
with the guard and once without, one after the other: decode tokens/s (after the first token), and what the
rubric finds invented in each (numbers, credentials, names, an absent ad cited). llama.cpp alone, with the app's
settings; the page adds nothing to decoding (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from coverletter import evaluate, generate, letter, rubric

ROOT = Path(__file__).resolve().parents[1]


def decode(llm, profile: letter.Profile, guard: bool) -> tuple[float, str]:
    """Decode tokens/s and the cleaned letter."""
    processors = generate.processors(llm, profile) if guard else [generate.LengthSteering(llm, profile)]
    llm.reset()
    stamps, text = [], ""
    for chunk in llm.create_chat_completion(letter.build_messages(profile), stream=True, temperature=0.0,
                                            max_tokens=letter.MAX_NEW_TOKENS[profile.length],
                                            repeat_penalty=generate.REPEAT_PENALTY, logits_processor=processors):
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            stamps.append(time.perf_counter())
            text += piece
    speed = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return speed, letter.clean_letter(text, profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--profiles", type=int, default=32)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    profiles = evaluate.load_profiles(ROOT / "data" / "eval-profiles.jsonl")[0][: args.profiles]
    llm = generate.open_gguf(Path(args.gguf)).llm
    started = time.perf_counter()
    generate.vocabulary_tables(llm)
    tables_seconds = time.perf_counter() - started
    rows = {True: [], False: []}
    for profile in profiles:
        for guard in (True, False):
            speed, text = decode(llm, profile, guard)
            invented = rubric.invented_facts(text, profile)
            rows[guard].append({"speed": speed, "number": bool(invented["number"]),
                                "ad_cited": bool(invented["ad_cited"]), "faithful": not any(invented.values())})
    result = {"gguf": args.gguf, "profiles": len(profiles), "vocabulary_tables_seconds": round(tables_seconds, 3)}
    for guard, label in ((True, "guard"), (False, "no_guard")):
        result[label] = {"decode_tok_s_median": round(statistics.median(r["speed"] for r in rows[guard]), 1),
                         "letters_with_invented_number": sum(r["number"] for r in rows[guard]),
                         "letters_citing_absent_ad": sum(r["ad_cited"] for r in rows[guard]),
                         "faithful": sum(r["faithful"] for r in rows[guard])}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
