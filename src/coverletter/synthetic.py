"""Synthetic cover-letter training examples, from templates, deterministic for a seed.

    coverletter synth --count 2000 --seed 0 --out runs/cover-letters.jsonl

Each example is a FineTome-schema conversation whose system and user turns are exactly what the app sends
(`letter.build_messages`) and whose answer is a complete letter that uses only the profile's facts: a greeting,
the job title and company, listed skills quoted as written, the applicant's reasons, the job advertisement when
there is one, a sign-off and the name, within the requested length, without placeholders. A fifth of the
applicants upload a résumé that lists their skills, and most of them leave the skills field to it.

Variety comes from the parts, not from swapped names: industries × roles × seniority × skill subsets × company
names × reasons × optional advertisements, and per letter a greeting, an order of paragraphs, a template for
each sentence, and as many optional sentences as the requested length needs. `corpus_stats` measures it.
None of the names or companies here appear in data/eval-profiles.jsonl (a test checks), so the evaluation
measures writing, not memory.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from . import jobad, letter, prose, rubric
from .config import SynthArguments, parse_args
from .facts import RESUME_HEADINGS


@dataclass(frozen=True)
class Industry:
    roles: tuple[str, ...]
    skills: tuple[str, ...]
    company_words: tuple[str, ...]
    topics: tuple[str, ...]  # what the company is known for: "its {topic}"
    duties: tuple[str, ...]  # what the job ad asks: "to {duty}"
    people: str  # whom the work serves


def load(name: str) -> dict:
    """A YAML file beside this module, its lists as tuples at any depth: as immutable as the data was in Python."""
    def tuples(value):
        if isinstance(value, dict):
            return {key: tuples(item) for key, item in value.items()}
        return tuple(tuples(item) for item in value) if isinstance(value, list) else value
    return tuples(yaml.safe_load(Path(__file__).with_name(name).read_text(encoding="utf-8")))


INDUSTRIES = {name: Industry(**fields) for name, fields in load("industries.yaml").items()}

# Names, reasons, job ads and sentence templates, described in the YAML; the order of each list is part of the corpus
WORDS = load("synthetic.yaml")
FIRST_NAMES = WORDS["first_names"]
LAST_NAMES = WORDS["last_names"]
COMPANY_PREFIXES = WORDS["company_prefixes"]
SENIORITY = WORDS["seniority"]
YEARS = WORDS["years"]
GROWTH = WORDS["growth"]
REASONS = {tuple(atoms.split()): templates for atoms, templates in WORDS["reasons"].items()}  # by the atoms they hold
ADS = WORDS["ads"]
ASKS = WORDS["asks"]
AD_YEARS = WORDS["ad_years"]
BULLETS = WORDS["bullets"]
RESTATE = WORDS["restate"]  # by a skill's form, as CLAUSES and CONNECT are
CLAUSES = WORDS["clauses"]
JOINERS = WORDS["joiners"]
CONNECT_STARTS = WORDS["connect_starts"]
CONNECT = WORDS["connect"]
TOPIC = WORDS["topic"]
TOPIC_CONNECT = WORDS["topic_connect"]
GROWTH_LINES = WORDS["growth_lines"]
PEOPLE = WORDS["people"]
PEOPLE_CONNECT = WORDS["people_connect"]
ASKED = WORDS["asked"]
DUTY_DONE = WORDS["duty_done"]
DUTY_WANTED = WORDS["duty_wanted"]
YEARS_ASKED = WORDS["years_asked"]
OPENINGS = WORDS["openings"]  # by tone, as CLOSINGS and THANKS are
CLOSINGS = WORDS["closings"]
THANKS = WORDS["thanks"]
GREETINGS = WORDS["greetings"]
RESUME_SHARE = 0.2  # applicants who upload a résumé; most of them then leave the skills field empty
VERBS_DOUBLING = {"ship", "plan", "hit", "run", "cut", "set"}

# --------------------------------------------------------------------------- the applicant's profile


@dataclass(frozen=True)
class Skill:
    listed: str  # as the profile lists it: "SQL", "five years of SQL", "planning routes and schedules"
    form: str  # "thing", "years" or "action"
    core: str  # the thing, or the action as a gerund phrase
    years: str = ""
    duty: str = ""  # for an action, the job ad duty it is ("plan routes and schedules")


@dataclass(frozen=True)
class Facts:
    """What one letter may say: the profile's fields and the atoms they were made from."""

    profile: letter.Profile
    skills: tuple[Skill, ...]
    topic: str | None
    growth: str | None
    people: str | None
    duties: tuple[str, ...] = ()  # the ad's duties and asked-for skills, empty without an ad
    asked: tuple[str, ...] = ()
    ad_years: int | None = None


def gerund(verb: str) -> str:
    """'plan' -> 'planning', 'improve' -> 'improving', 'keep' -> 'keeping'."""
    if verb in VERBS_DOUBLING:
        return verb + verb[-1] + "ing"
    return (verb[:-1] if verb.endswith("e") and not verb.endswith("ee") else verb) + "ing"


def as_action(duty: str, verbs: set[str]) -> str:
    """A job ad's duty as something an applicant did: 'plan and run campaigns' -> 'planning and running
    campaigns'; the ad's 'our' becomes 'the'."""
    words = duty.replace("our ", "the ").split()
    return " ".join(gerund(w) if i == 0 or (words[i - 1] == "and" and w in verbs) else w for i, w in enumerate(words))


def make_skills(industry: Industry, rng: random.Random) -> list[Skill]:
    verbs = {d.split()[0] for d in industry.duties} | {"maintain", "run", "adapt", "record"}
    duties = rng.sample(industry.duties, rng.randint(0, 3))
    things = rng.sample(industry.skills, rng.randint(max(1, 3 - len(duties)), 7 - len(duties)))
    skills = [Skill(as_action(d, verbs), "action", as_action(d, verbs), duty=d) for d in duties]
    skills += [Skill(core, "action" if prose.is_action(core.lower()) else "thing", core) for core in things]
    first = next((i for i, s in enumerate(skills) if s.form == "thing"), None)
    if first is None:  # a letter needs something to say "my ..." about
        core = next(x for x in industry.skills if not prose.is_action(x.lower()))
        skills.append(Skill(core, "thing", core))
        first = len(skills) - 1
    if rng.random() < 0.45:
        years = rng.choice(YEARS)
        skills[first] = Skill(f"{years} years of {skills[first].core}", "years", skills[first].core, years)
    rng.shuffle(skills)
    return skills


def make_facts(rng: random.Random) -> Facts:
    industry = INDUSTRIES[rng.choice(sorted(INDUSTRIES))]
    title = rng.choice(SENIORITY) + rng.choice(industry.roles)
    company = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(industry.company_words)}"
    skills = make_skills(industry, rng)
    atoms = rng.choice(sorted(REASONS))
    topic = rng.choice(industry.topics) if "topic" in atoms else None
    growth = rng.choice(GROWTH) if "growth" in atoms else None
    people = industry.people if "people" in atoms else None
    reasons = rng.choice(REASONS[atoms]).format(company=company, topic=topic, growth=growth, people=people)
    facts = Facts(letter.Profile(name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", job_title=title,
                                 company_name=company, skills=", ".join(s.listed for s in skills),
                                 reasons=capitalized(reasons), tone=rng.choice(sorted(letter.TONES))),
                  tuple(skills), topic, growth, people)
    return with_job_ad(facts, industry, rng) if rng.random() < 0.45 else facts


def with_resume(facts: Facts, rng: random.Random) -> Facts:
    """The applicant's skills as a résumé lists them, under their name and a heading; the skills field then left
    empty (the prompt says "see the résumé") or, less often, filled in as well. The letter is the same."""
    p = facts.profile
    listed = [s.listed for s in facts.skills]
    one_line = rng.random() < 0.3
    bullet = "" if one_line else rng.choice(BULLETS)
    heading = rng.choice(RESUME_HEADINGS[:6]).capitalize()  # the first six: headings a skill list goes under
    items = [f"{heading}: {', '.join(listed)}"] if one_line else [heading] + [bullet + skill for skill in listed]
    skills = p.skills if rng.random() < 0.25 else ""
    return replace(facts, profile=replace(p, resume="\n".join([p.name, *items]), skills=skills))


def with_job_ad(facts: Facts, industry: Industry, rng: random.Random) -> Facts:
    """An ad with two duties, one to three asked-for skills (some the applicant lists, perhaps one not), and
    sometimes a number of years; the applicant's own duties are more likely to be asked for."""
    p = facts.profile
    done = [s.duty for s in facts.skills if s.duty]
    duties = rng.sample(industry.duties, rng.randint(2, 3))
    if done and rng.random() < 0.6 and done[0] not in duties:
        duties[0] = done[0]
    title = jobad.content_stems(p.job_title)  # "SEO" asked of an SEO Specialist: every letter names it anyway
    held = [s.core for s in facts.skills if s.form != "action" and not jobad.content_stems(s.core) <= title]
    asked = rng.sample(held, min(len(held), rng.randint(1, 3)))
    if rng.random() < 0.5:
        asked += [rng.choice([s for s in industry.skills if s not in held])]
    ad_years = rng.randint(2, 5) if rng.random() < 0.3 else None
    fill = dict(company=p.company_name, title=p.job_title, a_title=with_article(p.job_title), duty=duties[0],
                duty2=joined(duties[1:]), asks=rng.choice(ASKS).format(asked=joined(asked)))
    ad = rng.choice(ADS).format(**fill) + (" " + rng.choice(AD_YEARS).format(n=ad_years) if ad_years else "")
    return replace(facts, profile=replace(p, job_description=ad), duties=tuple(duties), asked=tuple(asked),
                   ad_years=ad_years)


# --------------------------------------------------------------------------- sentences


def capitalized(sentence: str) -> str:
    return sentence[0].upper() + sentence[1:]


def with_article(noun: str) -> str:
    return ("an " if noun[0] in "AEIOaeio" else "a ") + noun  # no role here starts with a vowel-sound U


def joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def say(template: str, fill: dict, skill: Skill | None = None) -> str:
    if skill:
        fill = fill | dict(x=skill.listed, X=capitalized(skill.listed), core=skill.core, n=skill.years)
    return capitalized(template.format(**fill))


class Writer:
    """Chooses the wording of one applicant's letter once; `letter` then writes it at any length from the same
    choices, so the three lengths differ only in how many of them they use."""

    def __init__(self, facts: Facts, rng: random.Random):
        p = facts.profile
        self.facts, self.rng = facts, rng
        self.fill = dict(company=p.company_name, title=p.job_title, a_title=with_article(p.job_title),
                         topic=facts.topic, growth=facts.growth, people=facts.people)
        self.greeting = rng.choice(GREETINGS).format(company=p.company_name)
        self.sign_off = rng.choice(letter.SIGN_OFFS_BY_TONE[p.tone])
        self.core, self.spare = self.sentences()

    def pick(self, templates) -> str:
        return self.rng.choice(templates)

    def sentences(self) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
        """Per paragraph the sentences every length uses, and the optional ones in the order they are added."""
        facts, tone = self.facts, self.facts.profile.tone
        skills = list(facts.skills)
        use_topic = facts.topic and self.rng.random() < 0.35
        opening_skill = None if use_topic else skills.pop(0)
        openings = [t for t in OPENINGS[tone] if ("{topic}" in t) == bool(use_topic)]
        core = {"opening": [say(self.pick(openings), self.fill, opening_skill)],
                "skills": [], "motivation": [], "ad": [], "closing": []}
        spare = []
        while len(skills) >= 2:  # two skills a sentence, the last alone
            first, second = skills.pop(0), skills.pop(0)
            clauses = [template.format(x=s.listed, core=s.core, n=s.years) for s, template in
                       zip((first, second), self.two(CLAUSES[first.form], CLAUSES[second.form]))]
            core["skills"].append(say(self.pick(JOINERS), {"a": clauses[0], "b": clauses[1]}))
        for skill in skills:
            core["skills"].append(say(self.pick(RESTATE[skill.form]), self.fill, skill))
        shuffled = self.rng.sample(list(facts.skills), len(facts.skills))
        for first, second in zip(shuffled[::2], shuffled[1::2]):
            clauses = [template.format(x=s.listed, core=s.core) for s, template in
                       zip((first, second), self.two(CONNECT[first.form], CONNECT[second.form]))]
            spare.append(("skills", say(self.pick(CONNECT_STARTS) + "{a}, and {b}.", self.fill | {
                "a": clauses[0], "b": clauses[1]})))
        nouns = [s for s in facts.skills if s.form != "action"]  # what "my ..." can precede
        if facts.topic:
            if not use_topic:  # the opening has said it already
                core["motivation"].append(say(self.pick(TOPIC), self.fill, self.rng.choice(nouns)))
            spare.insert(1, ("motivation", say(self.pick(TOPIC_CONNECT), self.fill, self.rng.choice(nouns))))
        if facts.growth:
            core["motivation"].append(say(self.pick(GROWTH_LINES), self.fill, self.rng.choice(nouns)))
        if facts.people:
            core["motivation"].append(say(self.pick(PEOPLE), self.fill, self.rng.choice(nouns)))
            spare.insert(2, ("motivation", say(self.pick(PEOPLE_CONNECT), self.fill, self.rng.choice(nouns))))
        core["ad"], ad_spare = self.ad_answers()
        spare[1:1] = [("ad", line) for line in ad_spare]
        core["closing"] = [say(self.pick(CLOSINGS[tone]), self.fill | {"x": self.rng.choice(nouns).core}),
                           self.pick(THANKS[tone])]
        return core, spare

    def two(self, first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, str]:
        """A template from each, not the same one twice ("I would put X to good use, and I would put Y ...")."""
        one = self.pick(first)
        return one, self.pick([t for t in second if t != one])

    def ad_answers(self) -> tuple[list[str], list[str]]:
        """Answers to the ad: the asked-for skills the applicant lists, the duties (done before, or wanted), and
        the years asked for when the applicant has as many. The first is in every letter; the rest are spare."""
        facts = self.facts
        if not facts.duties:
            return [], []
        answers = []
        for asked in facts.asked:
            skill = next((s for s in facts.skills if s.core == asked), None)
            if skill:
                answers.append(say(self.pick(ASKED), self.fill | {"x": asked}))
        for duty in facts.duties:
            done = next((s for s in facts.skills if s.duty == duty), None)
            fill = self.fill | {"duty": duty.replace("our ", "your ")}
            nouns = [s for s in facts.skills if s.form != "action"]
            answers.append(say(self.pick(DUTY_DONE), fill | {"action": done.core}) if done
                           else say(self.pick(DUTY_WANTED), fill, self.rng.choice(nouns)))
        years = next((s for s in facts.skills if s.form == "years"), None)
        if facts.ad_years and years and letter_number(years.years) >= facts.ad_years:
            answers.append(say(self.pick(YEARS_ASKED), self.fill | {"n": facts.ad_years}, years))
        return answers[:1], answers[1:]

    def letter(self, length: str) -> str:
        """The core sentences, then spare ones while the letter is short of its length; past its top, the last
        added go first, then sentences from the longest paragraph. Out of spare sentences, it stays short: the
        profile said no more."""
        name = self.facts.profile.name
        order = ["opening", "skills", "motivation", "ad", "closing"]
        if self.facts.profile.tone in ("warm", "enthusiastic"):
            order = ["opening", "motivation", "skills", "ad", "closing"]
        paragraphs = {key: list(self.core[key]) for key in order}
        low, high = letter.LENGTHS[length]

        def text() -> str:
            return render(self.greeting, [paragraphs[key] for key in order], self.sign_off, name)

        spare = list(self.spare)
        while letter.word_count(text()) < low and spare:
            key, sentence = spare.pop(0)
            paragraphs[key].append(sentence)
        while letter.word_count(text()) > high:
            max((paragraphs[key] for key in ("skills", "motivation", "ad")), key=len).pop()
        return text()


def letter_number(text: str) -> int:
    return int(text) if text.isdigit() else rubric.NUMBER_WORDS[text]


def render(greeting: str, paragraphs: list[list[str]], sign_off: str, name: str) -> str:
    body = "\n\n".join(" ".join(sentences) for sentences in paragraphs if sentences)
    return f"{greeting}\n\n{body}\n\n{sign_off}\n{name}"


SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt"}


def generate_pairs(count: int, seed: int = 0) -> list[tuple[letter.Profile, dict]]:
    """`count` distinct (profile, row) pairs; each row in the FineTome schema; the same for the same seed.

    Each applicant comes at every length in turn, with the same greeting and sentences to draw on: the requested
    length is then all that tells the three letters apart, so the loss rewards a model for reading it."""
    rng = random.Random(seed)
    pairs, seen = [], set()
    while len(pairs) < count:
        facts = make_facts(rng)
        key = tuple(facts.profile.as_dict().values())
        if key in seen:
            continue
        seen.add(key)
        # its own random stream: the letters and every other profile stay those of the corpus without résumés
        resume_rng = random.Random(f"resume:{seed}:{len(seen)}")
        if resume_rng.random() < RESUME_SHARE:
            facts = with_resume(facts, resume_rng)
        writer = Writer(facts, random.Random(rng.getrandbits(64)))
        for length in letter.LENGTHS:
            profile = replace(facts.profile, length=length)
            messages = letter.build_messages(profile) + [{"role": "assistant", "content": writer.letter(length)}]
            row = {"conversations": [{"from": SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in messages],
                   "source": f"coverletter-synthetic-seed{seed}", "score": None}
            pairs.append((profile, row))
    return pairs[:count]


def generate(count: int, seed: int = 0) -> list[dict]:
    """`count` distinct cover-letter conversations in the FineTome schema."""
    return [row for _, row in generate_pairs(count, seed)]


# --------------------------------------------------------------------------- variety


def corpus_stats(pairs: list[tuple[letter.Profile, dict]]) -> dict:
    """Distinct-n (unique n-grams / all n-grams over the letters), distinct letters once names, companies and
    titles are masked, and distinct opening sentences: how far the corpus is from one template with names swapped."""
    tokenized, masked, openings = [], set(), set()
    for profile, row in pairs:
        text = row["conversations"][-1]["value"]
        tokenized.append(text.lower().split())
        text = prose.masked(text, profile)
        masked.add(text)
        openings.add(re.split(r"(?<=[.!?])\s", text.split("\n\n")[1])[0])
    stats = {"examples": len(pairs), "distinct_letters_masked": len(masked),
             "distinct_opening_sentences": len(openings)}
    for n in (1, 2, 3, 4):
        grams = [tuple(words[i: i + n]) for words in tokenized for i in range(len(words) - n + 1)]
        stats[f"distinct_{n}"] = round(len(set(grams)) / max(1, len(grams)), 4)
    words = [letter.word_count(row["conversations"][-1]["value"]) for _, row in pairs]
    stats["boilerplate_share"] = round(prose.boilerplate([(row["conversations"][-1]["value"], profile)
                                                           for profile, row in pairs])[0], 4)
    stats["words_min_mean_max"] = [min(words), round(sum(words) / len(words)), max(words)]
    return stats


def main(argv: list[str]) -> dict:
    (args,) = parse_args((SynthArguments,), argv, "coverletter synth")
    pairs = generate_pairs(args.count, args.seed)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for _, row in pairs))
    stats = corpus_stats(pairs)
    print(json.dumps(stats, indent=1))
    return stats
