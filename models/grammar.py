"""Chinese plate grammar: what a read must look like to count as a plate.

Province character + letter (no I or O) + 5 characters (blue, yellow, white, black plates,
the last one may be a suffix such as 学/警/挂/港/澳/领), or 6 characters for new-energy (green)
plates. Embassy/consulate plates (使, 领 forms) follow their own short patterns.
"""

from __future__ import annotations

import re

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
ALNUM = LETTERS + "0123456789"
SUFFIXES = "学警港澳挂领试超"

_ORDINARY = re.compile(f"^[{PROVINCES}][{LETTERS}][{ALNUM}]{{4}}[{ALNUM}{SUFFIXES}]$")
# New-energy (green): small vehicles put an energy letter first (D electric, F hybrid; A-K in
# newer series) then 1 letter/digit and 4 digits; large vehicles put 5 digits then the letter.
_NEV_LETTERS = "ABCDEFGHJK"
_NEW_ENERGY = re.compile(
    f"^[{PROVINCES}][{LETTERS}](?:[{_NEV_LETTERS}][{ALNUM}][0-9]{{4}}|[0-9]{{5}}[{_NEV_LETTERS}])$"
)
# [0-9], never \d: \d also matches full-width, Arabic-Indic and Devanagari digits.
_EMBASSY = re.compile(r"^使[0-9]{6}$|^[0-9]{6}使$")
_POLICE_WJ = re.compile(f"^WJ[{PROVINCES}]?[{ALNUM}]{{5}}$")

PLATE_ALPHABET = frozenset(PROVINCES + ALNUM + SUFFIXES + "使WJ")

_CONFUSABLE = str.maketrans({"O": "0", "I": "1"})


def normalise(raw: str) -> str:
    """Drop separators and spaces, upper-case Latin letters, map O/I (never used) to 0/1."""
    kept = "".join(ch for ch in raw.upper() if ch not in " ·•.-_:：,，")
    if len(kept) > 2:
        kept = kept[:2] + kept[2:].translate(_CONFUSABLE)
    return kept


def is_valid_plate(text: str) -> bool:
    """True when ``text`` (already normalised) is a well-formed Chinese plate."""
    if len(text) == 7:
        return bool(_ORDINARY.match(text) or _EMBASSY.match(text) or _POLICE_WJ.match(text))
    if len(text) == 8:
        return bool(_NEW_ENERGY.match(text))
    return False
