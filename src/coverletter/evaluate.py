"""Letter quality: write a letter for each held-out profile, as the app does, and score it with a rubric.

    coverletter evaluate --model runs/demo --profiles data/eval-profiles.jsonl --out runs/demo/eval

`--model` is a GGUF file or a run folder (its gguf/*.Q8_0.gguf). Letters are written by `generate.LetterWriter`,
the page's own path, with the page's defaults (its temperature included). Writes report.json, report.md and
report.png, and the held-out losses of the same file: FineTome's (to catch forgetting when compared with the base
model's) and the written letters' (how close the model writes to the corpus).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from . import facts, letter, prose, rubric, runs
from .config import EvaluateArguments, parse_args
from .errors import UserError
from .generate import LetterWriter
from .heldout import WRITTEN_HELDOUT, gguf_heldout_loss, gguf_written_loss

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- inputs


def load_profiles(path: str | Path) -> tuple[list[letter.Profile], dict[str, int]]:
    """Profiles from JSONL (the app's field names); bad lines are skipped and counted by reason."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"profiles file not found: {path}")
    profiles, skipped = [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            skipped["empty line"] = skipped.get("empty line", 0) + 1
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not an object")
            if any(not isinstance(v, str) for v in row.values()):
                raise ValueError("non-string value")
            profiles.append(letter.make_profile(**row))
        except (ValueError, TypeError) as err:  # JSON errors and InvalidProfile are ValueErrors
            reason = "invalid JSON" if isinstance(err, json.JSONDecodeError) else str(err).split(".")[0]
            skipped[reason] = skipped.get(reason, 0) + 1
    return profiles, skipped


# --------------------------------------------------------------------------- the evaluation


def evaluate(model: str | Path, profiles_path: str | Path, out: str | Path | None = None,
             limit: int | None = None, temperature: float = letter.DEFAULT_TEMPERATURE, steer_length: bool = True,
             written_heldout: str | Path = WRITTEN_HELDOUT) -> dict:
    gguf = runs.find_gguf(model)
    profiles, skipped = load_profiles(profiles_path)
    if skipped:
        logger.warning("profiles: skipped %s", ", ".join(f"{n} {why}" for why, n in skipped.items()))
    profiles = profiles[:limit] if limit else profiles
    if not profiles:
        raise UserError(f"no usable profile in {profiles_path}")
    letters = []
    with LetterWriter.for_gguf(gguf) as writer:
        for i, profile in enumerate(profiles, 1):
            text = writer.write(profile, temperature, steer_length)
            judged = rubric.judge(text, profile)
            rules = judged["rules"]
            letters.append({"profile": profile.as_dict(), "letter": text, "passed": all(rules.values()), **judged})
            logger.info("%d/%d %s: %s", i, len(profiles), profile.name, "pass" if all(rules.values()) else
                        "fail (" + ", ".join(r for r, ok in rules.items() if not ok) + ")")
        loss = gguf_heldout_loss(writer.model.llm, gguf)
        written_loss = gguf_written_loss(writer.model.llm, gguf, written_heldout)
    report = {"model": str(gguf), "length_steering": steer_length, "temperature": temperature,
              "pass_rate": sum(x["passed"] for x in letters) / len(letters),
              "habit_free_rate": sum(all(x["rules"][r] for r in rubric.HABITS) for x in letters) / len(letters),
              "rule_pass_rates": {r: sum(x["rules"][r] for x in letters) / len(letters) for r in rubric.RULES},
              **what_a_recruiter_sees(letters), "heldout_loss": loss, "written_letters_loss": written_loss,
              "profiles_skipped": skipped, "letters": letters}
    if out:
        write_report(report, Path(out))
    return report


def what_a_recruiter_sees(letters: list[dict]) -> dict:
    """The figures beside the pass rate: boilerplate over all letters, invented facts by kind, the job ad."""
    with_ad = [x for x in letters if x["profile"]["job_description"]]
    share, common = prose.boilerplate([(x["letter"], letter.Profile(**x["profile"])) for x in letters])
    return {"boilerplate_share": share, "boilerplate_sentences": common[:20],
            "letters_citing_absent_ad": sum("ad_cited" in x["invented"] for x in letters),
            "borrowed_claim_share": sum(bool(rubric.BORROWED & set(x["invented"])) for x in letters) / len(letters),
            "invented_fact_share": sum(bool(rubric.INVENTED & set(x["invented"])) for x in letters) / len(letters),
            "misspelled_names": sum("misspelled" in x["invented"] for x in letters),
            "job_ad_uptake": sum(x["rules"]["uses_job_ad"] for x in with_ad) / len(with_ad) if with_ad else None,
            "resume_drawn_on": resume_drawn_on(letters)}


RESUME_DRAWS = {"current_job": "a current job", "resume_figure": "a figure"}  # what a letter may draw on, as the
# report names it


def draws_on_resume(text: str, profile: letter.Profile) -> dict[str, bool | None]:
    """Whether a letter draws on a full résumé as the written letters do: it names the current job (its employer,
    or a title other than the one applied for), and it states a figure of the résumé's undated lines (an
    achievement, a length of time). None where the résumé has no such job or figure."""
    job = [part for part in facts.current_job(profile.resume) if part != profile.job_title.lower()]
    figures = rubric.numbers(facts.resume_skill_lines(profile.resume))
    lowered = text.lower()
    return {"current_job": any(part in lowered for part in job) if job else None,
            "resume_figure": bool(figures & rubric.numbers(text)) if figures else None}


def resume_drawn_on(letters: list[dict]) -> dict[str, float | None]:
    """Of the letters whose résumé has a current job, or a figure, the share that draws on it."""
    found = [draws_on_resume(x["letter"], letter.Profile(**x["profile"])) for x in letters]
    shares = {}
    for key in RESUME_DRAWS:
        given = [f[key] for f in found if f[key] is not None]
        shares[key] = sum(given) / len(given) if given else None
    return shares


def write_report(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    lines = [f"# Letter evaluation: {Path(report['model']).name}", "",
             f"Pass rate: **{report['pass_rate']:.0%}** of {len(report['letters'])} letters; free of the three habits "
             f"of template prose: **{report['habit_free_rate']:.0%}**. Held-out loss on the written letters "
             f"**{report['written_letters_loss']:.3f}**, on FineTome {report['heldout_loss']:.3f}. Temperature "
             f"{report['temperature']}; length steering: {'on' if report['length_steering'] else 'off'}.",
             "", f"Boilerplate share: **{report['boilerplate_share']:.2f}** of sentences. Letters citing a job ad that "
             f"was not given: **{report['letters_citing_absent_ad']}**. Letters with an invented number, credential, "
             f"name, length of time or employer: **{report['invented_fact_share']:.0%}**; with a claim borrowed from "
             f"the ad or a year out of place: "
             f"**{report['borrowed_claim_share']:.0%}**. Misspelled names: {report['misspelled_names']}. "
             + (f"Letters taking up the ad, of those given one: **{report['job_ad_uptake']:.0%}**."
                if report["job_ad_uptake"] is not None else "")
             + "".join(f" Of the letters whose résumé gives {what}, those drawing on it: **{share:.0%}**."
                       for key, what in RESUME_DRAWS.items() if (share := report["resume_drawn_on"][key]) is not None),
             "", "| rule | passed |", "|---|---:|"]
    lines += [f"| {rule} | {rate:.0%} |" for rule, rate in report["rule_pass_rates"].items()]
    lines += ["", "| applicant | company | passed | failed rules | invented, misplaced or template |",
              "|---|---|---|---|---|"]
    lines += [f"| {x['profile']['name']} | {x['profile']['company_name']} | {'yes' if x['passed'] else 'no'} | "
              f"{', '.join(r for r, ok in x['rules'].items() if not ok)} | "
              f"{'; '.join(what_went_wrong(x))} |" for x in report["letters"]]
    lines += ["", "Recurring sentences (name, company and title masked):", ""]
    lines += [f"- {sentence}" for sentence in report["boilerplate_sentences"]]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    plot_rules(report, out / "report.png")


def what_went_wrong(entry: dict) -> list[str]:
    found = {**entry["invented"], **entry["habits"]}
    return [f"{kind}: {', '.join(what)}" for kind, what in found.items()] + entry["misplaced"]


def plot_rules(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rules = ["all rules", *report["rule_pass_rates"]]
    rates = [report["pass_rate"], *report["rule_pass_rates"].values()]
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=120)
    ax.barh(rules[::-1], [100 * r for r in rates[::-1]], color=["#4c72b0"] * (len(rules) - 1) + ["#dd8452"])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of letters")
    ax.set_title(f"Rubric: {Path(report['model']).name}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str]) -> dict:
    (args,) = parse_args((EvaluateArguments,), argv, "coverletter evaluate")
    report = evaluate(args.model, args.profiles, args.out, args.limit, args.temperature, args.length_steering,
                      args.written_heldout or WRITTEN_HELDOUT)
    print(f"pass rate {report['pass_rate']:.0%} over {len(report['letters'])} letters; free of template habits "
          f"{report['habit_free_rate']:.0%}; boilerplate {report['boilerplate_share']:.2f}; invented facts in "
          f"{report['invented_fact_share']:.0%}, borrowed claims in {report['borrowed_claim_share']:.0%}; held-out "
          f"loss {report['heldout_loss']:.3f} (FineTome), {report['written_letters_loss']:.3f} (written letters)"
          + (f"; report in {args.out}" if args.out else ""))
    return report
