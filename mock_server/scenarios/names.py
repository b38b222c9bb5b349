"""Names as a payer compares them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NOT_NAME = re.compile(r"[^0-9a-z]")


@lru_cache(maxsize=4096)
def fold_name(name: str) -> str:
    """Case, whitespace, punctuation and accents do not make a different name."""
    decomposed = unicodedata.normalize("NFKD", name).casefold()
    return _NOT_NAME.sub("", decomposed)
