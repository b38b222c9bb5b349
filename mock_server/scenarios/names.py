"""Names as a payer compares them."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Letters (modifier letters such as the okina aside: written or left out alike) and digits, of
# any script: keeping only a-z and 0-9 folded every Cyrillic or Chinese name to "", so any two matched.
_NAME_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo", "Nd"})


@lru_cache(maxsize=4096)
def fold_name(name: str) -> str:
    """Case, whitespace, punctuation and accents do not make a different name."""
    decomposed = unicodedata.normalize("NFKD", name).casefold()
    return "".join(character for character in decomposed if unicodedata.category(character) in _NAME_CATEGORIES)
