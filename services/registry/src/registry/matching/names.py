"""Name normalisation: transliteration, romanisation variants and comparison keys.

A name passes through three forms:

- ``canonical_token``: transliterated to ASCII (anyascii), lower-cased, with romanisation
  conventions folded (Somali ``x`` = ḥ and ``c`` = ʿ, ``kh``/``q``/``ph``/doubled vowels...),
  particles merged (``Abd al-Rahman`` → one token) and known variant classes mapped to one
  representative (Mohammed / Muhammad / Maxamed → ``muhammad``). Equal canonical tokens are
  the strongest name evidence.
- ``skeleton``: the consonant skeleton of the canonical token. Arabic and Persian script carry
  no short vowels, so a name written in them (``محمد`` → ``mhmd``) can only be compared on its
  skeleton. Skeletons are coarse (Ahmed and Hamid share one) and serve candidate search only,
  or as weak evidence against a vowel-less token.
- Similarity between canonical tokens uses Jaro-Winkler (rapidfuzz) as graded evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler

# Connectors that carry no identity ("son of", "daughter of") and are dropped.
_CONNECTORS = frozenset({"bin", "ben", "ibn", "bint", "binti", "ould", "wad", "walad", "w", "b"})
# Arabic articles written as separate tokens are glued to the following token and then removed.
_ARTICLES = frozenset({"al", "el", "ul", "il", "l", "ad", "ed", "as", "es", "ar", "er", "an", "at"})
_VOWELS = frozenset("aeiou")
_VOWEL_RE = re.compile("[aeiou]")

# Common names of the migration routes and their romanisations (Arabic, Somali, Tigrinya,
# Amharic, Persian/Pashto, Turkish, West African, Russian). Each line: representative first.
_VARIANT_CLASSES = """
muhammad mohammed mohamed mohammad mohamad muhammed muhamed mohamud_not mehamed maxamed
 mukhammed mohammad mehmet mamadou mamadu muhamad mouhamed mahamat mohd
ahmad ahmed axmed akhmed ahmet achmed ahamed
mahmud mahmoud maxamuud mahmood mahmut makhmud
yusuf yousef youssef yousif yussuf yosef yusef yousuf jusuf yusupha
ibrahim ebrahim ibraahim brahim ibrahima ebrahem
abdirahman abdelrahman abdulrahman abdurahman abdurrahman abderrahmane abdrahman cabdiraxmaan
 abdourahmane abdurakhman
abdullah abdallah abdulla abdalla abdullahi cabdullahi abdellah abdoulaye
abdulkadir abdelkader abdulqadir cabdulqaadir abdukadir abdelkadir
omar umar cumar omer oumar
ali cali aly
hassan hasan xasan hasen hassen
hussein husain hussain xuseen husein hossein huseyin houssein
fatima fatuma faadumo fatma fatmah fatouma fatimah
aisha aysha caasha aicha ayesha aishah ayse
khadija khadijah xadiija hadiza kadija khadidja hadija
mustafa mustapha mostafa mustefa moustapha
osman uthman othman cusmaan usman ousmane
ismail ismael ismaaciil esmail ismaila
yohannes yohanes johannes yohannis yohans
tesfay tesfaye tesfai
abraham abrham ibrahimu_not abreham
mariam maryam mariama maryan mariyam meryem
halima xaliimo halimah haleema
amina aminah aamina amena
zainab zeinab zaynab seynab
suleiman sulayman suleyman soliman suliman
yasin yassin yaseen yacine
said saeed saed saciid sayed
idris idriss idiris
musa moussa mousa muuse
layla leila laila leyla
huda houda hoda
khalid khaled kaled xaalid
tariq tarek tarik
nasser nasir naser
jamal gamal
salih salah saleh
isa issa eisa ciise
adam aadan adan
nur noor nuur
abdi cabdi
"""


def _fold(token: str) -> str:
    """Apply romanisation rules that make different spellings of one name coincide."""
    t = token
    if t.startswith("c") and len(t) > 2 and t[1] in _VOWELS:  # Somali c = ʿ (ain)
        t = t[1:]
    t = t.replace("x", "h")  # Somali x = ḥ
    t = re.sub(r"(?<=[aeiou])c(?=[aeiou])", "", t)  # Somali medial ʿ: Ismaaciil
    for a, b in (
        ("kh", "h"),
        ("ph", "f"),
        ("ck", "k"),
        ("q", "k"),
        ("dh", "d"),
        ("th", "t"),
        ("gh", "g"),
        ("ou", "u"),
        ("oo", "u"),
        ("ee", "i"),
        ("ie", "i"),
    ):
        t = t.replace(a, b)
    t = re.sub(r"(.)\1+", r"\1", t)  # doubled letters and long vowels
    if len(t) > 5:
        t = re.sub(r"^abd(?:[aeiou]l|[aeiou])", "abd", t)  # Abdel-/Abdul-/Abdi- + name
    return t


def _build_classes() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _VARIANT_CLASSES.replace("\n ", " ").strip().splitlines():
        words = [w for w in line.split() if not w.endswith("_not")]
        rep = words[0]
        for w in words:
            table[_fold(w)] = rep
    return table


_CLASSES = _build_classes()
REPRESENTATIVES = frozenset(_CLASSES.values())


def transliterate(text: str) -> str:
    """Transliterate any script to lower-case ASCII (anyascii: Arabic, Ge'ez, Cyrillic...)."""
    return anyascii(text).lower()


@lru_cache(maxsize=200_000)
def canonical_token(token: str) -> str:
    """Canonical form of one lower-case ASCII name token (see module docstring)."""
    folded = _fold(token)
    return _CLASSES.get(folded, folded)


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """Consonant skeleton of a canonical token: vowels, inner w/y and final h removed."""
    rep = token
    head, tail = rep[:1], rep[1:]
    if head in _VOWELS:
        head = ""
    tail = "".join(ch for ch in tail if ch not in _VOWELS and ch not in "wy")
    s = head + tail
    if len(s) > 1 and s.endswith("h"):  # Arabic tāʾ marbūṭa: Fatimah / فاطمة
        s = s[:-1]
    s = re.sub(r"(.)\1+", r"\1", s)
    if s.startswith("bdl") and len(s) > 4:  # عبد الرحمن → `bd lrhmn: article after Abd
        s = "bd" + s[3:]
    return s or token


@lru_cache(maxsize=200_000)
def is_consonantal(token: str) -> bool:
    """True for a token with no vowels, as Arabic or Persian script transliterates to."""
    return len(token) > 1 and _VOWEL_RE.search(token) is None


def name_tokens(parts: Iterable[str]) -> list[str]:
    """Split, transliterate and canonicalise name parts; merge particles such as Abd al-."""
    out: list[str] = []
    for part in parts:
        if part:
            out.extend(_part_tokens(part))
    return out


@lru_cache(maxsize=200_000)
def _part_tokens(part: str) -> tuple[str, ...]:
    text = transliterate(part).replace("'", "").replace("`", "")
    raw = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    out: list[str] = []
    i = 0
    while i < len(raw):
        w = raw[i]
        if w in _CONNECTORS and len(raw) > 1:
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else None
        if w in ("abd", "abdu", "abdul", "abdel", "abdi", "cabd", "bd") and nxt is not None:
            if nxt in _ARTICLES and i + 2 < len(raw):
                nxt, i = raw[i + 2], i + 1
            w, i = ("bd" if is_consonantal(nxt) else "abd") + nxt, i + 1
        elif w in _ARTICLES and nxt is not None:
            w, i = nxt, i + 1
        if is_consonantal(w) and w.startswith("l") and len(w) > 3:
            w = w[1:]  # Arabic article written attached: الحسن → lhsn
        out.append(canonical_token(w))
        i += 1
    return tuple(out)


@lru_cache(maxsize=1 << 20)
def token_similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two canonical tokens; vowel-less tokens compare on skeletons."""
    if a == b:
        return 1.0
    if is_consonantal(a) or is_consonantal(b):
        sa, sb = skeleton(a), skeleton(b)
        return 0.95 if sa == sb else 0.8 * JaroWinkler.normalized_similarity(sa, sb)
    s = JaroWinkler.normalized_similarity(a, b)
    if a in REPRESENTATIVES and b in REPRESENTATIVES:
        return min(s, 0.85)  # two different known names (Mahmud is not Muhammad)
    if 0.8 <= s < 0.9 and skeleton(a) == skeleton(b):
        return 0.9  # only the vowels differ: Hoda / Huda
    return s
