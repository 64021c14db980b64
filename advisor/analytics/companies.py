"""Company names: the forms deal records use, their aliases and parents, resolved to one canonical name.

A party in a deal record may read "Merck & Co. (MSD)", "Roche (Genentech)", "Genentech (Roche)",
"Menarini / Stemline Therapeutics" or "KYM Biosciences (Keymed/Lepu JV)". Each yields the companies it
names; each company resolves (aliases, renames) to one canonical name, and a subsidiary also counts
under its parent, so a question about Roche finds Genentech's deals and "MSD" finds Merck & Co.'s.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_LEGAL = re.compile(
    r"(?:\s+(?:inc|ltd|limited|llc|plc|ag|sa|nv|co|corp|corporation|company|group|holdings?|pharmaceuticals?|"
    r"pharma|biopharmaceuticals?|biopharma|therapeutics|biotherapeutics|biotech|biologics|medicines?|"
    r"laboratories|labs|biosciences))+$"
)

# normalised alias -> canonical name (renames and common short forms)
ALIASES: dict[str, str] = {
    "merck": "Merck & Co.", "msd": "Merck & Co.", "merck sharp dohme": "Merck & Co.",
    "merck sharp and dohme": "Merck & Co.", "merck sharp & dohme": "Merck & Co.", "merck and": "Merck & Co.",
    "merck kgaa": "Merck KGaA", "emd serono": "Merck KGaA", "merck darmstadt": "Merck KGaA",
    "astellas": "Astellas Pharma", "otsuka": "Otsuka Pharmaceutical", "jacobio": "Jacobio Pharmaceuticals",
    "legochem": "LigaChem Biosciences", "ligachem": "LigaChem Biosciences",
    "sumitomo": "Sumitomo Pharma", "sumitomo dainippon": "Sumitomo Pharma", "dainippon sumitomo": "Sumitomo Pharma",
    "sosei": "Nxera Pharma", "sosei heptares": "Nxera Pharma", "heptares": "Nxera Pharma", "nxera": "Nxera Pharma",
    "hengrui": "Jiangsu Hengrui", "jiangsu hengrui": "Jiangsu Hengrui", "beigene": "BeiGene", "beone": "BeiGene",
    "cspc": "CSPC Pharmaceutical", "gilead": "Gilead Sciences", "gilead sciences": "Gilead Sciences",
    "johnson and johnson": "Johnson & Johnson", "johnson johnson": "Johnson & Johnson", "j j": "Johnson & Johnson",
    "jnj": "Johnson & Johnson", "j & j": "Johnson & Johnson", "bms": "Bristol Myers Squibb",
    "bristol myers": "Bristol Myers Squibb",
    "bristol myers squibb": "Bristol Myers Squibb", "lilly": "Eli Lilly", "eli lilly": "Eli Lilly",
    "glaxosmithkline": "GSK", "boehringer": "Boehringer Ingelheim", "daiichi": "Daiichi Sankyo",
    "novo": "Novo Nordisk", "hutchison china meditech": "HUTCHMED", "chi med": "HUTCHMED",
    "kelun": "Kelun-Biotech", "sichuan kelun": "Kelun-Biotech", "henlius": "Shanghai Henlius Biotech",
    "shanghai henlius": "Shanghai Henlius Biotech", "zai": "Zai Lab", "dualitybio": "Duality Biologics",
    "hercules cm newco": "Kailera Therapeutics", "kailera": "Kailera Therapeutics",
    "shenzhen kangtai biological products": "BioKangtai", "kangtai": "BioKangtai", "keymed": "Keymed Biosciences",
    "lepu": "Lepu Biopharma", "united": "The United Laboratories", "the united": "The United Laboratories",
    "sk": "SK Biopharmaceuticals", "sk bioscience": "SK bioscience", "seagen": "Seagen",
}

# canonical subsidiary -> canonical parent: a subsidiary's deals also count as the parent's
PARENTS: dict[str, str] = {
    "Genentech": "Roche", "Janssen": "Johnson & Johnson", "MedImmune": "AstraZeneca",
    "Millennium Pharmaceuticals": "Takeda", "Tesaro": "GSK", "Kite": "Gilead Sciences", "CSL Behring": "CSL",
    "CSL Seqirus": "CSL", "Sunovion": "Sumitomo Pharma", "Cullinan Pearl": "Cullinan Oncology",
    "Stemline Therapeutics": "Menarini", "SystImmune": "Sichuan Biokin", "United Biotechnology":
    "The United Laboratories", "Nona Biosciences": "Harbour BioMed", "TRC 2004": "Candid Therapeutics",
    "Vignette Bio": "Candid Therapeutics", "CSPC Megalith": "CSPC Pharmaceutical",
    "Ribocure": "Suzhou Ribo Life Science",
}

# forms never matched on their own in a question (they are ordinary words or another thing's name)
NEVER_ALONE = frozenset({"adc", "united", "the united", "sino", "the", "bio", "and", "merck and", "sk"})
# forms matched only when written with capitals ("Summit", not "summit")
COMMON_WORDS = frozenset(x.strip() for x in (
    "summit, leap, legend, frequency, coherent, bliss, providence, nuance, overland, maverick, kite, candid, "
    "everest, recursion, duality, orchard, nimbus, bridge, assembly, arena, argo, turning point, china grand, "
    "novo, i mab, ono, generate, regor, absci, keros, zai, lilly, valo, vor bio").split(","))


def normalise(name: str) -> str:
    """'Merck & Co.' -> 'merck', 'Astellas Pharma' -> 'astellas': case, punctuation and legal suffixes gone."""
    text = re.sub(r"[^a-z0-9]+", " ", name.lower().replace("&", " ")).strip()
    stripped = _LEGAL.sub("", text).strip()
    return stripped or text


def tokens(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens, '&' kept as a token: 'J&J' -> ('j', '&', 'j')."""
    return tuple(re.findall(r"[a-z0-9]+|&", text.lower()))


def split_party(raw: str) -> list[str]:
    """The company names one party cell holds: 'A (B) / C' -> [A, B, C]; 'X (Y/Z JV)' -> [X, Y, Z]."""
    names: list[str] = []
    for part in raw.split(" / "):
        match = re.fullmatch(r"(.*?)\s*\((.*)\)", part.strip())
        if not match:
            names.append(part.strip())
            continue
        names.append(match.group(1).strip())
        inner = match.group(2).strip()
        if inner.endswith(" JV") or "/" in inner:
            names.extend(x.strip() for x in inner.removesuffix(" JV").split("/") if x.strip())
        else:
            names.append(inner)
    return [n for n in names if n]


class Companies:
    """The companies the deal records name, with aliases, parents and the phrases a question may use."""

    def __init__(self, party_names: Iterable[str]) -> None:
        forms: Counter[tuple[str, str]] = Counter()
        for raw in party_names:
            for name in split_party(raw):
                forms[(normalise(name), name)] += 1
        # canonical name per normalised key: an alias when curated, else the most used (then longest) form
        best: dict[str, tuple[int, int, str]] = {}
        for (key, name), count in forms.items():
            score = (count, len(name), name)
            if key not in best or score > best[key]:
                best[key] = score
        self._canonical = {key: ALIASES.get(key, score[2]) for key, score in best.items()}
        self._surface = {name for _, name in forms}
        self.names = sorted(set(self._canonical.values()) | set(PARENTS.values()))

    def canonical(self, name: str) -> str:
        """The canonical name of a company as written anywhere ('MSD' -> 'Merck & Co.')."""
        key = normalise(name)
        if key in ALIASES:
            return ALIASES[key]
        if key in self._canonical:
            return self._canonical[key]
        for canonical in self.names:
            if normalise(canonical) == key:
                return canonical
        return name.strip()

    @staticmethod
    def parent(canonical: str) -> str | None:
        """The parent company of a subsidiary ('Genentech' -> 'Roche'), None for a parent or unknown name."""
        return PARENTS.get(canonical)

    def resolve(self, name: str) -> str:
        """What a question's company means: its canonical name, or its parent's for a subsidiary."""
        canonical = self.canonical(name)
        return PARENTS.get(canonical, canonical)

    def entities(self, raw: str) -> list[str]:
        """Every canonical company a party cell stands for, parents included, primary first."""
        out: list[str] = []
        for name in split_party(raw):
            canonical = self.canonical(name)
            for company in (PARENTS.get(canonical), canonical):
                if company and company not in out:
                    out.append(company)
        return out

    def primary(self, raw: str) -> str:
        """The one company a party is grouped under: the parent of the first name in the cell."""
        names = split_party(raw)
        return self.resolve(names[0]) if names else raw

    def holding(self, word: str) -> set[str]:
        """The companies (canonical, parents resolved) whose name holds `word` as one of its words."""
        key = tokens(word)
        if len(key) != 1:
            return set()
        return {self.resolve(name) for name in self.names if key[0] in tokens(name)}

    def phrases(self) -> dict[tuple[str, ...], tuple[str, bool]]:
        """Token sequences a question may use for a company -> (canonical name, must be capitalised)."""
        out: dict[tuple[str, ...], tuple[str, bool]] = {}

        def add(form: str, canonical: str) -> None:
            key = tokens(form)
            if not key or " ".join(key) in NEVER_ALONE:
                return
            if key[0] == "the" and len(key) > 1:
                add(" ".join(key[1:]), canonical)
            cased = " ".join(key) in COMMON_WORDS
            for variant in (key, tuple("and" if t == "&" else t for t in key),
                            tuple("&" if t == "and" else t for t in key)):
                out.setdefault(variant, (canonical, cased))

        for name in sorted(self._surface):
            canonical = self.canonical(name)
            add(name, canonical)
            add(normalise(name), canonical)
        for alias, canonical in ALIASES.items():
            add(alias, canonical)
        for canonical in self.names:
            add(canonical, canonical)
        return out
