"""Synthetic cover-letter training examples, from templates, deterministic for a seed.

    coverletter synth --count 2000 --seed 0 --out runs/cover-letters.jsonl

Each example is a FineTome-schema conversation whose system and user turns are exactly what the app sends
(`letter.build_messages`) and whose answer is a complete letter that uses only the profile's facts: a greeting,
the job title and company, listed skills quoted as written, the applicant's reasons, the job advertisement when
there is one, a sign-off and the name, within the requested length, without placeholders.

Variety comes from the parts, not from swapped names: industries × roles × seniority × skill subsets × company
names × reasons × optional advertisements, and per letter a greeting, an order of paragraphs, a template for
each sentence, and as many optional sentences as the requested length needs. `corpus_stats` measures it.
None of the names or companies here appear in data/eval-profiles.jsonl (a test checks), so the evaluation
measures writing, not memory.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from . import letter


@dataclass(frozen=True)
class Industry:
    roles: tuple[str, ...]
    skills: tuple[str, ...]
    company_words: tuple[str, ...]
    topics: tuple[str, ...]  # what the company is known for: "its {topic}"
    duties: tuple[str, ...]  # what the job ad asks: "to {duty}"
    people: str  # whom the work serves


INDUSTRIES = {name: Industry(**{key: tuple(value) if isinstance(value, list) else value
                                for key, value in fields.items()})
              for name, fields in yaml.safe_load(Path(__file__).with_name("industries.yaml").read_text()).items()}

FIRST_NAMES = (
    "Amara", "Benedikt", "Carmen", "Darius", "Elena", "Farid", "Gabriela", "Henrik", "Ines", "Jonah", "Keiko",
    "Leon", "Marisol", "Nadia", "Oskar", "Paloma", "Quentin", "Rosa", "Samir", "Tamsin", "Ulrich", "Valentina",
    "Wei", "Ximena", "Yusuf", "Zofia", "Abena", "Bruno", "Chloe", "Diego", "Esther", "Felix", "Giulia", "Hamza",
    "Ida", "Jasper", "Kavya", "Lorenzo", "Maya", "Nikhil", "Olga", "Pedro", "Rania", "Stefan", "Thandiwe", "Viktor",
    "Wanjiru", "Aiden", "Beatriz", "Callum", "Dalia", "Emil", "Fiona", "Gustavo", "Hana", "Ivo", "Julia", "Kenji",
    "Lina", "Mateo",
)
LAST_NAMES = (
    "Abernathy", "Bianchi", "Castillo-Vega", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoang", "Ibrahim", "Jovanovic",
    "Kaur", "Lambert", "Moreau", "Nakamura", "Obi", "Pereira", "Quinn", "Rossi", "Schmidt", "Takahashi", "Usman",
    "Varga", "Walsh", "Yilmaz", "Zhang", "Adeyemi", "Brennan", "Costa", "Dlamini", "Esposito", "Fontaine", "Gallagher",
    "Horvat", "Iyer", "Jensen", "Kowalski", "Lindgren", "Mwangi", "Novak", "Okafor", "Popescu", "Reyes", "Sato",
    "Tremblay", "Vasquez", "Weber", "Yamamoto", "Ahmadi", "Barros", "Chen",
)
COMPANY_PREFIXES = (
    "Aldermoor", "Bluefinch", "Brightwater", "Calderon", "Clearpath", "Driftwood", "Emberly", "Fernhill", "Goldcrest",
    "Harbourline", "Hazelwick", "Juniper", "Kestrel", "Lakeshore", "Larkspur", "Meridian", "Millbrook", "Northgate",
    "Oakridge", "Pinecrest", "Redwing", "Rowan", "Silverbirch", "Skylark", "Southwind", "Stonebridge", "Sunfield",
    "Thistledown", "Tidewater", "Trailhead", "Valewood", "Waypoint", "Whitlock", "Willowmere", "Yarrow", "Zephyr",
)
SENIORITY = ("", "", "Junior ", "Senior ", "Lead ")
YEARS = ("two", "three", "four", "five", "six", "eight", "ten")
GROWTH = (
    "grow into a role with more responsibility", "learn from an experienced team", "work closer to the people "
    "the work is for", "build on what I have learned so far", "use my experience where it makes a real difference",
    "keep improving my craft", "take on larger projects", "contribute to work I believe in",
)

REASONS = (
    "I admire {company}'s {topic} and want to {growth}.",
    "{company}'s {topic} matches what I care about, and I would like to {growth}.",
    "I have followed {company}'s {topic} for some time; joining would let me {growth}.",
    "A friend who works at {company} speaks highly of its {topic}, and I want to {growth}.",
    "{company} is known for its {topic}. I want to {growth}.",
)
ADS = (
    "{company} is hiring {a_job_title}. You will {duty} and {duty2}. We value {skill} and a calm, friendly manner.",
    "Join {company} as our next {job_title}! In this role you will {duty}, and you will also {duty2}. "
    "Experience with {skill} is a plus.",
    "We are looking for {a_job_title} to {duty}. The role also involves helping to {duty2}. Must have: {skill}.",
)

GREETINGS = ("Dear Hiring Manager,", "Dear {company} Hiring Team,", "Dear {company} team,", "Dear Hiring Committee,",
             "Dear Recruitment Team,")
SIGN_OFFS = {
    "formal": ("Sincerely,", "Yours sincerely,", "Respectfully,"),
    "warm": ("Warm regards,", "Kind regards,", "With gratitude,"),
    "enthusiastic": ("Best regards,", "Best wishes,", "Cheers,"),
    "concise": ("Regards,", "Best,", "Kind regards,"),
}
OPENINGS = {
    "formal": (
        "I am writing to apply for the position of {job_title} at {company}.",
        "Please accept this letter as my application for the {job_title} role at {company}.",
        "I wish to be considered for the {job_title} position at {company}.",
    ),
    "warm": (
        "I was so pleased to see that {company} is looking for {a_job_title}, and I would love to be considered.",
        "I am writing with real enthusiasm about the {job_title} role at {company}.",
        "It would mean a great deal to me to join {company} as {a_job_title}.",
    ),
    "enthusiastic": (
        "I am excited to apply for the {job_title} role at {company}!",
        "When I saw that {company} is hiring {a_job_title}, I knew I had to apply.",
        "I would be thrilled to bring my energy to {company} as your next {job_title}.",
    ),
    "concise": (
        "I am applying for the {job_title} role at {company}.",
        "Please consider me for the {job_title} position at {company}.",
        "I would like to apply for the {job_title} job at {company}.",
    ),
}
OPENING_EXTRAS = (
    "The role brings together the work I do best and the kind of place I want to do it.",
    "I have read about the role carefully, and I believe I can contribute from the start.",
    "This letter explains what I would bring to the team and why the role appeals to me.",
)
SKILL_LEADS = (
    "My experience covers {skills}.",
    "I bring {skills} to this role.",
    "The skills I would bring to the role include {skills}.",
    "My background includes {skills}.",
)
SKILL_DETAILS = (
    "With {skill}, I have learned that {habit}.",
    "My work in {skill} has taught me that {habit}.",
    "{Skill} is a part of the job I particularly enjoy, because {habit}.",
    "I use {skill} every week, and it has shown me that {habit}.",
    "Through {skill} I have come to believe that {habit}.",
)
HABITS = (
    "careful preparation saves time later", "clear notes help the whole team", "small improvements add up",
    "asking good questions early prevents mistakes", "steady routines make busy days calmer",
    "checking my own work is part of doing it well", "explaining my reasoning builds trust",
    "good results come from listening first", "a calm approach helps others stay calm",
    "sharing what I learn makes the team stronger",
)
MOTIVATIONS = (
    "I am drawn to {company} because of its {topic}.",
    "What attracts me most to {company} is its {topic}.",
    "{company}'s {topic} is a big part of why I am applying.",
    "I have long admired {company} for its {topic}.",
)
MOTIVATION_EXTRAS = (
    "In this role I hope to {growth}.",
    "Joining {company} would allow me to {growth}.",
    "I am looking for a place where I can {growth}, and {company} is that place.",
)
SERVICE = (
    "I care about the {people} my work serves, and I want that care to show in everything I do.",
    "I believe good work starts with understanding the {people} it is for.",
    "Keeping the {people} in mind helps me decide what matters most on a busy day.",
)
AD_LINES = (
    "Your advertisement says the {job_title} will {duty}, which is work I know well.",
    "I noticed that the role involves helping to {duty2}; I would welcome that responsibility.",
    "The advertisement asks for {ad_skill}, and that is one of my strengths.",
    "I was glad to read that the job includes the chance to {duty}.",
)
TEAMWORK = (
    "I work well with colleagues at every level and I am happy to share what I know.",
    "I am reliable, I keep my promises, and I ask for help when it is needed.",
    "I stay organised under pressure and keep the people around me informed.",
    "I adapt quickly to new tools and ways of working.",
    "I take feedback seriously and use it to improve.",
)
FIRST_MONTHS = (
    "In my first months I would focus on learning how the team works and where I can help most.",
    "I would start by listening to my new colleagues and understanding their priorities.",
    "I learn quickly, and I would aim to be a dependable part of the team within my first weeks.",
    "I would bring fresh eyes to the role while respecting what already works well.",
    "I expect to keep learning on the job, and I enjoy that part of any new role.",
)
STRENGTHS = (
    "Colleagues describe me as patient, dependable and easy to work with.",
    "I am at my best when a task needs both care and a sense of urgency.",
    "I enjoy turning a messy problem into a clear plan that others can follow.",
    "I try to leave every process a little better than I found it.",
    "I value honesty, and I say early when something is not going to plan.",
)
CLOSINGS = {
    "formal": (
        "I would welcome the opportunity to discuss how I could contribute to {company}.",
        "I would be grateful for the chance to discuss my application with you.",
    ),
    "warm": (
        "I would love the chance to talk with you about how I could help {company}.",
        "It would be a pleasure to meet you and learn more about the team.",
    ),
    "enthusiastic": (
        "I would be delighted to talk about how I can help {company} succeed!",
        "I cannot wait to hear from you and to learn more about the team!",
    ),
    "concise": (
        "I would welcome a conversation about the role.",
        "I am available for an interview at your convenience.",
    ),
}
THANKS = (
    "Thank you for taking the time to read my application.",
    "Thank you for considering my application.",
    "Thank you for your time and consideration.",
)
LOOKING_FORWARD = (
    "I look forward to hearing from you.",
    "I hope to hear from you soon.",
    "Please let me know if I can provide any further information.",
)


@dataclass(frozen=True)
class Facts:
    """What one letter may say: the profile's fields and the atoms they were made from."""

    profile: letter.Profile
    skills: tuple[str, ...]
    topic: str
    growth: str
    people: str
    duties: tuple[str, str] | None  # from the job ad, when there is one
    ad_skill: str | None


# --------------------------------------------------------------------------- profiles


def make_facts(rng: random.Random) -> Facts:
    industry = INDUSTRIES[rng.choice(sorted(INDUSTRIES))]
    job_title = rng.choice(SENIORITY) + rng.choice(industry.roles)
    company = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(industry.company_words)}"
    skills = tuple(rng.sample(industry.skills, rng.randint(3, 5)))
    listed = list(skills)
    if rng.random() < 0.5:
        listed[0] = f"{rng.choice(YEARS)} years of {skills[0]}"
    topic, growth = rng.choice(industry.topics), rng.choice(GROWTH)
    duties = tuple(rng.sample(industry.duties, 2)) if rng.random() < 0.35 else None
    ad_skill = rng.choice(skills) if duties else None
    ad = rng.choice(ADS).format(company=company, job_title=job_title, a_job_title=with_article(job_title),
                                duty=duties[0], duty2=duties[1], skill=ad_skill) if duties else ""
    profile = letter.Profile(
        name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", job_title=job_title, company_name=company,
        skills=", ".join(listed), reasons=rng.choice(REASONS).format(company=company, topic=topic, growth=growth),
        job_description=ad, tone=rng.choice(sorted(letter.TONES)))
    return Facts(profile, tuple(listed), topic, growth, industry.people, duties, ad_skill)


# --------------------------------------------------------------------------- letters


def capitalized(sentence: str) -> str:
    return sentence[0].upper() + sentence[1:]


def with_article(noun: str) -> str:
    return ("an " if noun[0] in "AEIOaeio" else "a ") + noun  # no role here starts with a vowel-sound U


def joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# Sentences per paragraph for each length. A fixed plan per length, not a word target: a small model learns
# "a long letter has five paragraphs of three to five sentences" far better than it learns to count words.
PLAN = {
    "short": {"opening": 2, "skills": 3, "motivation": 2, "ad": 1, "teamwork": 1, "first_months": 0, "closing": 2},
    "standard": {"opening": 3, "skills": 4, "motivation": 3, "ad": 2, "teamwork": 3, "first_months": 1, "closing": 3},
    "long": {"opening": 3, "skills": 6, "motivation": 4, "ad": 3, "teamwork": 5, "first_months": 2, "closing": 3},
}
SKILLS_FIRST = {"formal", "concise"}  # warm and enthusiastic letters start with why they apply


def sentence_pools(facts: Facts, rng: random.Random) -> dict[str, list[str]]:
    """For each paragraph, its sentences in the order they are used: the first always, then as the plan says."""
    p = facts.profile
    fill = dict(company=p.company_name, job_title=p.job_title, a_job_title=with_article(p.job_title),
                topic=facts.topic, growth=facts.growth, people=facts.people)
    listed = list(facts.skills)
    bare = [re.sub(r"^\w+ years of ", "", skill) for skill in listed]  # "five years of SQL" -> "SQL"
    templates = rng.sample(SKILL_DETAILS, len(SKILL_DETAILS))
    habits = rng.sample(HABITS, len(HABITS))
    details = [templates[i % len(templates)].format(skill=skill, Skill=capitalized(skill), habit=habits[i])
               for i, skill in enumerate(bare + bare)]  # the skills in the order listed, then a second round
    motivation_extras = rng.sample(MOTIVATION_EXTRAS, 2)
    pools = {
        "opening": [rng.choice(OPENINGS[p.tone]), *rng.sample(OPENING_EXTRAS, 2)],
        "skills": [rng.choice(SKILL_LEADS).format(skills=joined(listed[: rng.randint(2, min(3, len(listed)))])),
                   *details],
        "motivation": [rng.choice(MOTIVATIONS), motivation_extras[0], rng.choice(SERVICE), motivation_extras[1]],
        "ad": [],
        "teamwork": [*rng.sample(TEAMWORK, 2), *rng.sample(STRENGTHS, 3)],
        "first_months": rng.sample(FIRST_MONTHS, 3),
        "closing": [rng.choice(CLOSINGS[p.tone]), rng.choice(THANKS), rng.choice(LOOKING_FORWARD)],
    }
    if facts.duties:
        pools["ad"] = rng.sample(AD_LINES, 3)
        fill.update(duty=facts.duties[0], duty2=facts.duties[1], ad_skill=facts.ad_skill)
    return {name: [sentence.format(**fill) for sentence in pool] for name, pool in pools.items()}


def render(greeting: str, paragraphs: list[list[str]], sign_off: str, name: str) -> str:
    body = "\n\n".join(" ".join(sentences) for sentences in paragraphs if sentences)
    return f"{greeting}\n\n{body}\n\n{sign_off}\n{name}"


def write_letter(facts: Facts, rng: random.Random) -> str:
    """The letter's plan for its length; then, while it is short of the length's range, one more sentence of a
    paragraph that has more to say, or while it is over, one fewer in its longest paragraph."""
    p = facts.profile
    greeting = rng.choice(GREETINGS).format(company=p.company_name)
    sign_off = rng.choice(SIGN_OFFS[p.tone])
    pools = sentence_pools(facts, rng)
    order = ["opening", "skills", "motivation"] if p.tone in SKILLS_FIRST else ["opening", "motivation", "skills"]
    order += ["ad", "teamwork", "first_months", "closing"]
    paragraphs = [pools[name][: PLAN[p.length][name]] for name in order]
    low, high = letter.LENGTHS[p.length]
    spare = [(order.index(name), sentence) for name in ("teamwork", "first_months", "skills")
             for sentence in pools[name][PLAN[p.length][name]:]]
    while letter.word_count(render(greeting, paragraphs, sign_off, p.name)) < low and spare:
        index, sentence = spare.pop(0)
        paragraphs[index].append(sentence)
    while letter.word_count(render(greeting, paragraphs, sign_off, p.name)) > high:
        max(paragraphs, key=len).pop()
    return render(greeting, paragraphs, sign_off, p.name)


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
        wording = rng.getrandbits(64)
        for length in letter.LENGTHS:
            at_length = replace(facts, profile=replace(facts.profile, length=length))
            answer = write_letter(at_length, random.Random(wording))
            messages = letter.build_messages(at_length.profile) + [{"role": "assistant", "content": answer}]
            row = {"conversations": [{"from": SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in messages],
                   "source": f"coverletter-synthetic-seed{seed}", "score": None}
            pairs.append((at_length.profile, row))
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
        for value, mask in ((profile.name, "NAME"), (profile.company_name, "COMPANY"), (profile.job_title, "TITLE")):
            text = text.replace(value, mask)
        masked.add(text)
        openings.add(re.split(r"(?<=[.!?])\s", text.split("\n\n")[1])[0])
    stats = {"examples": len(pairs), "distinct_letters_masked": len(masked), "distinct_opening_sentences": len(openings)}
    for n in (1, 2, 3, 4):
        grams = [tuple(words[i: i + n]) for words in tokenized for i in range(len(words) - n + 1)]
        stats[f"distinct_{n}"] = round(len(set(grams)) / max(1, len(grams)), 4)
    words = [letter.word_count(row["conversations"][-1]["value"]) for _, row in pairs]
    stats["words_min_mean_max"] = [min(words), round(sum(words) / len(words)), max(words)]
    return stats


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="coverletter synth", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the examples here as JSONL")
    args = parser.parse_args(argv)
    pairs = generate_pairs(args.count, args.seed)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for _, row in pairs))
    stats = corpus_stats(pairs)
    print(json.dumps(stats, indent=1))
    return stats
