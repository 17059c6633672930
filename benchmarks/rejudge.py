"""The letters of earlier evaluations, judged again by today's rubric: how a rubric change moves the figures, on
the same letters, without writing them again.

    python benchmarks/rejudge.py runs/letters/written/eval/report.json [...]

For each `coverletter evaluate` report: its pass rate and habit-free rate as it was written and as `rubric.judge`
reads its letters now, the letters whose pass or fail changed and why, and whether every letter of the written
corpus (data/letters/) still passes, as tests/test_data_letters.py asks.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from hparam_study import ROOT

from coverletter import letter, rubric

PROFILE_FIELDS = [field.name for field in fields(letter.Profile)]


def judged(text: str, profile: dict) -> dict:
    return rubric.judge(text, letter.Profile(**{key: profile[key] for key in PROFILE_FIELDS}))


def corpus_failures() -> list[str]:
    rows = [json.loads(line) for path in sorted((ROOT / "data" / "letters").glob("*.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]
    return [row["name"] for row in rows if not all(judged(row["letter"], row)["rules"].values())]


def rejudge(path: str) -> None:
    report = json.loads(open(path).read())
    now = [judged(x["letter"], x["profile"]) for x in report["letters"]]
    passed = [all(j["rules"].values()) for j in now]
    habit_free = [all(j["rules"][r] for r in rubric.HABITS) for j in now]
    print(f"{path}: pass {report['pass_rate']:.0%} then, {sum(passed) / len(now):.0%} now; habit-free "
          f"{report['habit_free_rate']:.0%} then, {sum(habit_free) / len(now):.0%} now")
    for x, j, ok in zip(report["letters"], now, passed):
        if ok != x["passed"]:
            why = {**j["invented"], **j["habits"], **({"misplaced": j["misplaced"]} if j["misplaced"] else {})}
            print(f"  {'passes' if ok else 'fails'} now: {x['profile']['name']} {why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reports", nargs="+", help="report.json files of `coverletter evaluate`")
    for path in parser.parse_args().reports:
        rejudge(path)
    failing = corpus_failures()
    print(f"written corpus: {len(failing)} letters fail" + (f" ({', '.join(failing)})" if failing else ""))


if __name__ == "__main__":
    main()
