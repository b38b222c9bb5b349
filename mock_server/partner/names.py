"""Generous name matching, as 98point6 asks of partners: case, spacing, hyphens, apostrophes,
accents and generational suffixes do not make a different name."""

from __future__ import annotations

import re
from functools import lru_cache

from ..scenarios import fold_name

# Generational suffixes, folded. Roman numerals past IV and lone "V" are left alone: as the last
# word of a name they are more often part of it than a suffix.
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd"})
_WORDS = re.compile(r"[\s,]+")


@lru_cache(maxsize=4096)
def fold_partner_name(name: str) -> str:
    """`"Núñez-O'Brien, Jr."` and `"nunez obrien"` fold alike; a name that is only a suffix stays itself."""
    words = [word for word in _WORDS.split(name) if word]
    while len(words) > 1 and fold_name(words[-1]) in SUFFIXES:
        words.pop()
    return fold_name(" ".join(words))
