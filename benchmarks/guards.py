"""What the guards do and cost: the same letters decoded with the app's processors (`guards.processors`: the fact,
name, claim, repeat and company guards, the length steering and the signature) and with the length steering alone,
or (`--leave_out ClaimGuard`) with all of them but one.

    python benchmarks/guards.py --gguf runs/demo/gguf/X.Q8_0.gguf [--profiles 32] [--sets all] [--with_ad]
                                [--leave_out GUARD] [--out F]

For each profile of data/eval-profiles.jsonl (`--sets all`: the three sets, 96 applications; `--with_ad`: those
with a job ad only), the letter at temperature 0, once with the guards and once without,
one after the other: decode tokens/s (after the first token), the time to build the letter's processors, and
what the rubric finds in each (numbers, names, an absent ad cited, claims borrowed from the ad; signed with the
applicant's name). llama.cpp
alone, with the app's settings; the page adds nothing to decoding (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from coverletter import evaluate, generate, guards, letter, rubric, steering, vocabulary

ROOT = Path(__file__).resolve().parents[1]


def decode(llm, profile: letter.Profile, guard: bool, leave_out: str | None) -> tuple[float, float, str]:
    """Decode tokens/s, the seconds its processors took to build, and the cleaned letter."""
    started = time.perf_counter()
    if guard or leave_out:
        processors = [p for p in guards.processors(llm, profile) if guard or type(p).__name__ != leave_out]
    else:
        processors = [steering.LengthSteering(llm, profile, vocabulary.AnswerReader(llm))]
    setup = time.perf_counter() - started
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
    return speed, setup, letter.clean_letter(text, profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--profiles", type=int, default=96)
    parser.add_argument("--sets", choices=["skills", "all"], default="skills")
    parser.add_argument("--with_ad", action="store_true")
    parser.add_argument("--leave_out", choices=["FactGuard", "NameGuard", "ClaimGuard", "RepeatGuard", "CompanyGuard"],
                        help="compare with every guard but this one, not with the length steering alone")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files = sorted((ROOT / "data").glob("eval-profiles*.jsonl")) if args.sets == "all" else [
        ROOT / "data" / "eval-profiles.jsonl"]
    profiles = [p for path in files for p in evaluate.load_profiles(path)[0] if p.job_description or not args.with_ad]
    profiles = profiles[: args.profiles]
    llm = generate.open_gguf(Path(args.gguf)).llm
    started = time.perf_counter()
    vocabulary.vocabulary_tables(llm)
    tables_seconds = time.perf_counter() - started
    rows = {True: [], False: []}
    for profile in profiles:
        for guard in (True, False):
            speed, setup, text = decode(llm, profile, guard, args.leave_out)
            judged = rubric.judge(text, profile)
            rows[guard].append({"speed": speed, "setup": setup, "letter": text, "invented": judged["invented"],
                                "failed": [rule for rule, met in judged["rules"].items() if not met],
                                "faithful": judged["rules"]["faithful"],
                                "signed": judged["rules"]["sign_off"], "passed": all(judged["rules"].values()),
                                **{kind: kind in judged["invented"]
                                   for kind in ("number", "name", "ad_cited", "borrowed")}})
    result = {"gguf": args.gguf, "profiles": len(profiles), "vocabulary_tables_seconds": round(tables_seconds, 3)}
    labels = ("guards", f"without_{args.leave_out}" if args.leave_out else "steering_only")
    for guard, label in zip((True, False), labels):
        result[label] = {"decode_tok_s_median": round(statistics.median(r["speed"] for r in rows[guard]), 1),
                         "processors_seconds_median": round(statistics.median(r["setup"] for r in rows[guard]), 4),
                         "letters_with_invented_number": sum(r["number"] for r in rows[guard]),
                         "letters_with_invented_name": sum(r["name"] for r in rows[guard]),
                         "letters_citing_absent_ad": sum(r["ad_cited"] for r in rows[guard]),
                         "letters_with_borrowed_claim": sum(r["borrowed"] for r in rows[guard]),
                         "faithful": sum(r["faithful"] for r in rows[guard]),
                         "signed_with_the_name": sum(r["signed"] for r in rows[guard]),
                         "pass": sum(r["passed"] for r in rows[guard]),
                         "failed_rules": dict(Counter(rule for r in rows[guard] for rule in r["failed"]).most_common())}
    text = json.dumps(result, indent=1)
    if args.out:  # with each letter, both ways, to read side by side
        letters = [{"name": p.name, **{label: {k: row[k] for k in ("letter", "failed", "invented")}
                                       for label, row in zip(labels, pair)}}
                   for p, *pair in zip(profiles, rows[True], rows[False])]
        args.out.write_text(json.dumps({**result, "letters": letters}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
