"""What the page serves against what `coverletter evaluate` measures, on one GGUF, in one run.

    python benchmarks/page_vs_evaluate.py [--gguf runs/demo/gguf/NAME.Q8_0.gguf] [--profiles data/eval-profiles.jsonl]

1. `coverletter evaluate`'s letter for every profile (temperature 0, the writer's defaults).
2. The app, started as the Space starts it, asked through `/generate` for each profile at temperature 0 with the
   form's own defaults otherwise (Max new tokens on auto): the same letter, word for word?
3. Each long profile again with nothing but the form's defaults: is the letter whole,
   signed with the applicant's name and within its word range?
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app_bench import default_gguf, start_app


def main() -> None:
    from gradio_client import Client

    from coverletter import evaluate, letter, rubric

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--profiles", default="data/eval-profiles.jsonl")
    args = parser.parse_args()
    gguf = args.gguf or default_gguf()

    report = evaluate.evaluate(gguf, args.profiles)
    server, url = start_app(gguf)
    try:
        client = Client(url, verbose=False)
        same, long_letters = [], []
        for entry in report["letters"]:
            profile = entry["profile"]
            page = client.predict(**profile, temperature=0.0, api_name="/generate")
            same.append(page == entry["letter"])
            if profile["length"] == "long":
                defaults_only = {k: profile[k] for k in letter.REQUIRED}  # tone, temperature, budget: the form's
                long_letters.append(client.predict(**defaults_only, length="long", api_name="/generate"))
    finally:
        server.terminate()
        server.wait(timeout=30)

    low, high = letter.LENGTHS["long"]
    long_profiles = [letter.make_profile(**e["profile"]) for e in report["letters"] if e["profile"]["length"] == "long"]
    names = [p.name for p in long_profiles]
    signed = [rubric.score_letter(text, p)["sign_off"] for text, p in zip(long_letters, long_profiles)]
    words = [letter.word_count(text) for text in long_letters]
    print(f"model: {gguf.name}; {len(same)} profiles from {args.profiles}")
    print(f"page (temperature 0) = coverletter evaluate: {sum(same)}/{len(same)} letters identical")
    print(f"long letters with the form's defaults only (budget auto): {sum(signed)}/{len(signed)} "
          f"signed with the applicant's name, {sum(low <= w <= high for w in words)}/{len(words)} within {low}-{high} "
          f"words; lengths {sorted(words)}; applicants {', '.join(names)}")


if __name__ == "__main__":
    main()
