"""Synthetic labelled corpus for layer 2: PUBLIC, INTERNAL and PROPRIETARY documents of many kinds.

Each kind is a list of sentence templates plus a layout. Templates are split by index
(every third one goes to the held-out split only) and entity pools are split in halves
(pools.py), so the held-out set uses wording and names that training never saw.
Deterministic for a given (split, n, seed).
"""

import random

import pools
from kinds_public import PUBLIC_KINDS
from kinds_internal import INTERNAL_KINDS
from kinds_proprietary import PROPRIETARY_KINDS
from kinds_shared import FILLER

KINDS = PUBLIC_KINDS + INTERNAL_KINDS + PROPRIETARY_KINDS
TIER_RANK = {"PUBLIC": 0, "INTERNAL": 1, "PROPRIETARY": 2}


SPLIT_RESIDUES = {
    "train": (0, 1, 3, 4),  # everything the shipped model may learn from
    "fit": (0, 1, 3),  # stage 1 of training: fit ...
    "val": (4,),  # ... and pick epochs / temperature on templates the fit never saw
    "heldout": (2, 5),  # never used in training, only measured
}


def split_templates(items, split):
    """Disjoint template subsets by index modulo 6: held-out templates are never trained on."""
    keep = SPLIT_RESIDUES[split]
    return [t for i, t in enumerate(items) if i % 6 in keep]


class Slots:
    """Fills {slot} placeholders from the split's half of each pool."""

    def __init__(self, rng, split):
        self.rng = rng
        self.split = split
        self.co = (rng.choice(pools.half(pools.COMPANIES, split)) if rng.random() < 0.6
                   else f"{self.invented()} {rng.choice(pools.half(pools.COMPANY_SUFFIXES, split))}")
        self.prod = rng.choice(pools.half(pools.PRODUCTS, split))
        self.dom = rng.choice(pools.half(pools.DOMAINS, split))

    def person(self):
        r = self.rng
        # Half the names are invented, so every tier contains words the vocab splits into
        # pieces, and unfamiliar names in new documents do not read as "sensitive".
        first = r.choice(pools.half(pools.FIRST, self.split)) if r.random() < 0.5 else self.invented()
        last = r.choice(pools.half(pools.LAST, self.split)) if r.random() < 0.5 else self.invented()
        return f"{first} {last}"

    def invented(self, syllables=(2, 3)):
        r = self.rng
        inv = pools.half(pools.SYLLABLES, self.split)
        return "".join(r.choice(inv) for _ in range(r.randint(*syllables))).capitalize()

    def value(self, name):
        r = self.rng
        s = self.split
        if name == "co":
            return self.co
        if name == "co2":
            if r.random() < 0.4:
                return f"{self.invented()} {r.choice(pools.half(pools.COMPANY_SUFFIXES, s))}"
            return r.choice(pools.half(pools.COMPANIES, s))
        if name == "sha":
            return "".join(r.choice("0123456789abcdef") for _ in range(r.choice([7, 12, 40])))
        if name == "ticket":
            return f"{r.choice(['OPS', 'ENG', 'DOC', 'WEB', 'FIN', 'REQ'])}-{r.randint(10, 9999)}"
        if name == "slug":
            return "/".join(self.invented((1, 2)).lower() for _ in range(r.randint(1, 3)))
        if name == "prod":
            return self.prod
        if name == "person":
            return self.person()
        if name == "first":
            return r.choice(pools.half(pools.FIRST, s))
        if name == "city":
            return r.choice(pools.half(pools.CITIES, s))
        if name == "team":
            return r.choice(pools.half(pools.TEAMS, s))
        if name == "svc":
            return r.choice(pools.half(pools.SERVICES, s))
        if name == "tech":
            return r.choice(pools.half(pools.TECH, s))
        if name == "dom":
            return self.dom
        if name == "ind":
            return r.choice(pools.half(pools.INDUSTRY_WORDS, s))
        if name == "n":
            return str(r.randint(2, 40))
        if name == "big":
            return f"{r.randint(1200, 980000):,}"
        if name == "pct":
            return f"{r.randint(1, 60)}.{r.randint(0, 9)}%"
        if name == "money":
            return r.choice(["$", "€", "£"]) + f"{r.randint(1, 950)}.{r.randint(0, 9)}" + r.choice(["M", "k", "M", "B"])
        if name == "date":
            return f"{r.randint(2024, 2027)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if name == "month":
            return r.choice(pools.MONTHS)
        if name == "q":
            return f"Q{r.randint(1, 4)} {r.randint(2024, 2027)}"
        if name == "year":
            return str(r.randint(2019, 2027))
        if name == "ver":
            return f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
        if name == "email":
            p = self.person().lower().replace(" ", ".")
            return f"{p}@{self.dom}"
        if name == "pemail":
            p = self.person().lower().replace(" ", r.choice([".", "_", ""]))
            return f"{p}{r.randint(1, 99)}@{r.choice(['mailbox.example', 'post.example', 'inbox.example'])}"
        if name == "phone":
            return f"+1 {r.randint(201, 989)}-{r.randint(200, 999)}-{r.randint(1000, 9999)}"
        if name == "ssn":
            return f"{r.randint(100, 665):03d}-{r.randint(10, 99):02d}-{r.randint(1000, 9999):04d}"
        if name == "acct":
            return f"{r.choice(['AC', 'CU', 'ID'])}-{r.randint(100000, 999999)}"
        if name == "host":
            return f"{r.choice(['db', 'app', 'cache', 'queue', 'etl'])}{r.randint(1, 40):02d}.{r.choice(['prod', 'stg', 'corp'])}.{self.dom}"
        if name == "ip":
            return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        if name == "salary":
            return f"{r.choice(['$', '€', '£'])}{r.randint(48, 260)},{r.randint(0, 9)}00"
        if name == "dob":
            return f"{r.randint(1950, 2004)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if name == "card":
            return "4" + "".join(str(r.randint(0, 9)) for _ in range(3)) + " " + " ".join(
                "".join(str(r.randint(0, 9)) for _ in range(4)) for _ in range(3))
        if name == "key":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            return "".join(r.choice(alphabet) for _ in range(r.choice([32, 40])))
        if name == "awskey":
            return "AKIA" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        if name == "diag":
            return r.choice(["type 2 diabetes", "hypertension", "asthma", "major depressive disorder",
                             "chronic kidney disease", "atrial fibrillation", "migraine", "hypothyroidism"])
        raise KeyError(name)

    def fill(self, template):
        out = []
        i = 0
        while i < len(template):
            c = template[i]
            if c == "{":
                j = template.index("}", i)
                out.append(self.value(template[i + 1:j]))
                i = j + 1
            else:
                out.append(c)
                i += 1
        return "".join(out)


def render(kind, rng, split):
    slots = Slots(rng, split)
    sentences = split_templates(kind["sentences"], split)
    titles = split_templates(kind["titles"], split) or kind["titles"]
    parts = []
    banner_p, banners = kind.get("banner", (0.0, []))
    if banners and rng.random() < banner_p:
        parts.append(slots.fill(rng.choice(split_templates(banners, split) or banners)))
    parts.append(slots.fill(rng.choice(titles)))
    layout = kind.get("layout", "prose")
    n_par = rng.randint(*kind.get("paragraphs", (2, 5)))
    filler = split_templates(FILLER, split)
    lower = [k for k in KINDS if TIER_RANK[k["tier"]] < TIER_RANK[kind["tier"]]]
    deck = []
    for _ in range(n_par):
        k = rng.randint(2, 5)
        chosen = []
        for _ in range(k):
            # Draw without replacement so a short template list does not repeat itself.
            if not deck:
                deck = list(sentences)
                rng.shuffle(deck)
            chosen.append(slots.fill(deck.pop()))
        # Generic business prose shared by all tiers keeps the task from being keyword spotting.
        if rng.random() < 0.35:
            chosen.insert(rng.randint(0, len(chosen)), slots.fill(rng.choice(filler)))
        # Sensitive documents quote less sensitive material (a memo citing a press release),
        # never the other way round: tier is decided by the most sensitive content.
        if lower and rng.random() < 0.2:
            other = rng.choice(lower)
            chosen.insert(rng.randint(0, len(chosen)), slots.fill(rng.choice(split_templates(other["sentences"], split))))
        if layout == "bullets":
            parts.append("\n".join("- " + s for s in chosen))
        elif layout == "lines":
            parts.extend(chosen)
        else:
            parts.append(" ".join(chosen))
    gen = kind.get("generator")
    if gen is not None:
        parts.append(gen(slots, rng, split))
    footers = kind.get("footers")
    if footers and rng.random() < 0.5:
        parts.append(slots.fill(rng.choice(split_templates(footers, split) or footers)))
    return "\n\n".join(parts) + "\n"


def generate(split, n, seed):
    """n documents of the split, balanced over tiers and kinds; each {text, tier, kind}."""
    assert split in SPLIT_RESIDUES
    rng = random.Random(f"{split}:{seed}")
    by_tier = {}
    for k in KINDS:
        by_tier.setdefault(k["tier"], []).append(k)
    docs = []
    tiers = sorted(by_tier)
    for i in range(n):
        tier = tiers[i % len(tiers)]
        kind = rng.choice(by_tier[tier])
        docs.append({"text": render(kind, rng, split), "tier": tier, "kind": kind["name"]})
    rng.shuffle(docs)
    return docs

