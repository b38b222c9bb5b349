"""A JSON request body parsed without trusting it: bounded nesting, and text that is text.

Both checks are needed only for rare bodies, and the test for rarity is a C-speed scan of
the text, so an ordinary request pays next to nothing:
- a body with at most MAX_JSON_DEPTH `[`/`{` characters cannot nest deeper than that;
- a lone UTF-16 surrogate can only come from a `\\uD800`-`\\uDFFF` escape, since the bytes
  are decoded strictly (json.loads would let raw UTF-8-encoded surrogates through).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import MalformedBody
from ..limits import MAX_JSON_DEPTH

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")

TOO_DEEP = f"the body nests lists and objects deeper than {MAX_JSON_DEPTH} levels"


def parse_json(raw: bytes) -> Any:
    """The body's JSON value; MalformedBody (400, `param` the offending field or `body`) otherwise."""
    try:
        # Strict decoding in the encoding JSON detection picks (UTF-8 unless a BOM or NULs say
        # UTF-16/32): json.loads(bytes) decodes with surrogatepass, which lets lone surrogates in.
        text = raw.decode(json.detect_encoding(raw))
        value = json.loads(text)
    except RecursionError:
        raise MalformedBody("body", "depth", TOO_DEEP) from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        raise MalformedBody("body", "json", "the body is not valid JSON") from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _too_deep(value):
        raise MalformedBody("body", "depth", TOO_DEEP)
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        _check_text(value)
    return value


def _too_deep(value: Any) -> bool:
    """Level by level, without recursion: the value may be as deep as the parser allows."""
    # json.loads makes exactly dict and list, so `type() is` holds, and is 4x faster than
    # isinstance here: a 1 MiB body of small lists takes 20 ms, not 100.
    level = [value] if type(value) is list or type(value) is dict else []
    for _ in range(MAX_JSON_DEPTH):
        if not level:
            return False
        level = [
            child
            for container in level
            for child in (container.values() if type(container) is dict else container)
            if type(child) is list or type(child) is dict
        ]
    return bool(level)


def _check_text(value: Any) -> None:
    """Raise for the first string, in document order, holding a lone surrogate."""
    # (value, its path) or (key, None): a key names no field, so it is the body's fault.
    stack: list[tuple[Any, tuple[str, ...] | None]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                param = ".".join(path) if path else "body"
                where = "a key" if path is None else param
                raise MalformedBody(param, "unicode", f"{where} holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
        elif isinstance(node, dict):
            for key, child in reversed(node.items()):
                stack.append((child, (*(path or ()), key)))
                stack.append((key, None))
        elif isinstance(node, list):
            stack.extend((child, (*(path or ()), str(i))) for i, child in reversed(list(enumerate(node))))
