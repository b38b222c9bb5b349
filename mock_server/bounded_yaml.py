"""YAML read in one bounded pass (scenario and config files): parser events -> plain data and lines.

PyYAML's own composer recurses (libyaml's crashes the process past ~100 000 levels, the
pure-Python one raises RecursionError past ~300) and its constructor builds whatever a tag
names. This reader is one loop over the parser's events. It admits only what a schema of
plain data can check (text, numbers, booleans, null, lists, text-keyed mappings), and bounds as
it goes the nesting (MAX_YAML_DEPTH) and how many nodes aliases add once expanded
(MAX_YAML_ALIAS_NODES): each node's expanded size is known when it closes, so a
billion-laughs file is refused after reading its few hundred bytes, in O(input) time.
The values are built as their nodes close, so an alias shares its anchor's object, as
with PyYAML; `<<` merge keys work as they do there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from .limits import MAX_YAML_ALIAS_NODES, MAX_YAML_DEPTH

_YAML = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (f"{_YAML}{name}" for name in ("str", "int", "float", "bool", "null"))
SEQ, MAP, MERGE = f"{_YAML}seq", f"{_YAML}map", f"{_YAML}merge"
TOO_DEEP = f"lists and mappings nest deeper than {MAX_YAML_DEPTH} levels (the limit)"
ALLOWED = "the file may hold only text, numbers, booleans, null, lists and mappings"
_SURROGATE = re.compile("[\ud800-\udfff]")


# Safe YAML, minus timestamps: `1985-12-10` stays text, so the date check can name it.
_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != f"{_YAML}timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class PurePythonLoader(yaml.SafeLoader):
    yaml_implicit_resolvers = _RESOLVERS


# libyaml's parser when PyYAML was built with it: the events of 9 000 members come 20 times
# faster (0.08 s, not 1.6 s). Only its parser is used: its composer would recurse (see above).
class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    yaml_implicit_resolvers = _RESOLVERS


class YAMLProblem(Exception):
    """Content that is valid YAML but not plain data, or past a bound; `line` is 1-based."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"{line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Document:
    """The data, and the line of every key and list item in it (by the identity of its parent)."""

    data: Any
    lines: dict[int, dict[str, int] | list[int]] = field(default_factory=dict)

    def line(self, path: Iterable[str | int]) -> int:
        """The line of `path`'s last key or list item, or of the deepest part of it that exists."""
        node, line = self.data, 1
        for part in path:
            lines = self.lines.get(id(node))
            # Two branches, not one `or`: each narrows `node`, `lines` and `part` for the type checker.
            if isinstance(node, dict) and isinstance(lines, dict) and part in node and part in lines:  # noqa: SIM114
                line, node = lines[part], node[part]
            elif isinstance(node, list) and isinstance(lines, list) and isinstance(part, int) and 0 <= part < len(node):
                line, node = lines[part], node[part]
            else:
                break
        return line


@dataclass(slots=True)
class _Built:
    """A node read to its end: a scalar, an alias, or a closed list or mapping."""

    value: Any
    tag: str
    line: int
    size: int = 1  # nodes, once aliases are expanded
    depth: int = 0  # nested lists and mappings, once aliases are expanded
    text: str = ""  # a scalar's own text, for messages


@dataclass(slots=True)
class _Open:
    """A list or mapping whose end the parser has not reached yet."""

    value: Any
    lines: Any  # key -> line for a mapping, item lines for a list
    line: int
    anchor: str | None
    size: int = 1
    depth: int = 1
    key: _Built | None = None  # a mapping's key, waiting for its value
    merges: list[_Built] = field(default_factory=list)


def read(text: str, loader_class: type[yaml.SafeLoader] | type[Loader] = Loader) -> Document:
    """Raise yaml.YAMLError for text that is not YAML, YAMLProblem for what plain data cannot hold."""
    try:
        return _read(text, loader_class)
    except yaml.MarkedYAMLError as exc:
        # Newer PyYAML and libyaml builds stop flow nesting at 1000 levels in the scanner, which
        # reads ahead of the events this reader counts: the same bound passed, said the same way.
        if "maximum nesting depth" in (exc.problem or "") and exc.problem_mark is not None:
            raise YAMLProblem(exc.problem_mark.line + 1, TOO_DEEP) from None
        raise


def _read(text: str, loader_class: type[yaml.SafeLoader] | type[Loader]) -> Document:
    loader = loader_class(text)
    try:
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return Document(None)
        loader.get_event()  # document start
        reader = _Reader(loader)
        data = reader.document()
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise YAMLProblem(_line(loader.get_event()), "the file holds one YAML document, not several")
        return Document(data, reader.lines)
    finally:
        loader.dispose()


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


def _short(tag: str) -> str:
    return tag.replace(_YAML, "!!")


class _Reader:
    # No yaml.Node graph is kept: line numbers are ints in one dict or list per mapping or
    # list, so 9 000 members leave a few objects each for the cyclic GC to walk, not dozens
    # (whose full collections, run from the loading thread with the GIL held, paused the
    # event loop up to 170 ms).
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.anchors: dict[str, _Built] = {}
        self.unclosed: set[str] = set()  # anchors of lists and mappings still open
        self.stack: list[_Open] = []
        self.lines: dict[int, Any] = {}
        self.added = 0  # nodes that aliases add to the document
        # Plain scalars' tags by text: keys repeat on every member, and resolving one tries
        # each implicit resolver's regular expression in Python.
        self.plain_tags: dict[str, str] = {}

    def document(self) -> Any:
        stack = self.stack
        get_event = self.loader.get_event
        while True:
            event = get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                built = self._scalar(event)
            elif kind is yaml.AliasEvent:
                built = self._alias(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._open(event, kind is yaml.MappingStartEvent)
                continue
            else:  # the end of the innermost list or mapping: the parser allows nothing else here
                built = self._close(stack.pop())
            if not stack:
                return built.value
            self._attach(stack[-1], built)

    def _where(self) -> str:
        """The dotted path of the node being read, for messages."""
        parts = []
        for open_ in self.stack:
            if isinstance(open_.value, dict):
                if open_.key is not None:
                    parts.append(str(open_.key.value))
            else:
                parts.append(str(len(open_.value)))
        return ".".join(parts) + ": " if parts else ""

    def _problem(self, line: int, problem: str) -> YAMLProblem:
        return YAMLProblem(line, f"{self._where()}{problem}")

    def _scalar(self, event: yaml.ScalarEvent) -> _Built:
        tag = event.tag
        if tag is None and event.implicit[0]:
            tag = self.plain_tags.get(event.value)
            if tag is None:
                tag = self.plain_tags[event.value] = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        line = _line(event)
        built = _Built(self._value(tag, event.value, line), tag, line, text=event.value)
        if event.anchor is not None:
            self.anchors[event.anchor] = built
        return built

    def _value(self, tag: str, text: str, line: int) -> Any:
        if tag in (STR, MERGE):  # `<<` is a merge only as a key; see _attach
            if not text.isascii() and _SURROGATE.search(text):
                # Only the pure-Python parser lets a "\ud800" escape through; UTF-8 cannot hold it.
                raise self._problem(line, "a lone UTF-16 surrogate (\\ud800-\\udfff) is not text")
            return text
        if tag == NULL:
            return None
        node = yaml.ScalarNode(tag, text)
        try:
            if tag == INT:
                return self.loader.construct_yaml_int(node)
            if tag == BOOL:
                return self.loader.construct_yaml_bool(node)
            if tag == FLOAT:
                number = self.loader.construct_yaml_float(node)
                if not math.isfinite(number):
                    raise self._problem(line, f"{text} is not a finite number")
                return number
        except (ValueError, KeyError):  # an explicit !!int abc, or an int past Python's 4 300 digits
            shown = text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"
            raise self._problem(line, f"{shown!r} cannot be read as {_short(tag)}") from None
        raise self._problem(line, f"the tag {_short(tag)} is not allowed: {ALLOWED}")

    def _alias(self, event: yaml.AliasEvent) -> _Built:
        line = _line(event)
        anchor = event.anchor
        assert anchor is not None, "the parser only makes an alias event from an alias token, which names its anchor"
        built = self.anchors.get(anchor)
        if built is None:
            where = "inside the list or mapping it names" if anchor in self.unclosed else "before its anchor"
            raise self._problem(line, f"alias *{anchor} is used {where}")
        if len(self.stack) + built.depth > MAX_YAML_DEPTH:  # what it names nests on at this depth
            raise self._problem(
                line, f"lists and mappings nest deeper than {MAX_YAML_DEPTH} levels once aliases are expanded"
            )
        self.added += built.size
        if self.added > MAX_YAML_ALIAS_NODES:
            limit = f"{MAX_YAML_ALIAS_NODES:,}"
            raise self._problem(line, f"aliases expand the file by more than {limit} nodes (the limit)")
        return _Built(built.value, built.tag, line, built.size, built.depth, built.text)

    def _open(self, event: Any, mapping: bool) -> None:
        line = _line(event)
        if len(self.stack) >= MAX_YAML_DEPTH:
            raise self._problem(line, TOO_DEEP)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.MappingNode if mapping else yaml.SequenceNode, None, event.implicit)
        if tag != (MAP if mapping else SEQ):
            raise self._problem(line, f"the tag {_short(tag)} is not allowed: {ALLOWED}")
        if mapping:
            self.stack.append(_Open({}, {}, line, event.anchor))
        else:
            self.stack.append(_Open([], [], line, event.anchor))
        if event.anchor is not None:
            self.unclosed.add(event.anchor)

    def _close(self, open_: _Open) -> _Built:
        value, lines = open_.value, open_.lines
        if open_.merges:
            # As PyYAML merges: the mapping's own keys win, then the earlier merged mappings.
            merged: dict[str, Any] = {}
            merged_lines: dict[str, int] = {}
            for merge in reversed(open_.merges):
                for source in reversed(merge.value if isinstance(merge.value, list) else [merge.value]):
                    merged.update(source)
                    merged_lines.update(self.lines[id(source)])
            merged.update(value)
            merged_lines.update(lines)
            value, lines = merged, merged_lines
        self.lines[id(value)] = lines
        built = _Built(value, MAP if isinstance(value, dict) else SEQ, open_.line, open_.size, open_.depth)
        if open_.anchor is not None:
            self.unclosed.discard(open_.anchor)
            self.anchors[open_.anchor] = built
        return built

    def _attach(self, parent: _Open, child: _Built) -> None:
        parent.size += child.size
        if child.depth >= parent.depth:
            parent.depth = child.depth + 1
        if isinstance(parent.value, list):
            parent.value.append(child.value)
            parent.lines.append(child.line)
        elif parent.key is None:
            self._check_key(child)
            parent.key = child
        else:
            key, parent.key = parent.key, None
            if key.tag == MERGE:
                self._check_merge(child)
                parent.merges.append(child)
            else:
                parent.value[key.value] = child.value
                parent.lines[key.value] = key.line

    def _check_key(self, key: _Built) -> None:
        if key.tag in (STR, MERGE):
            return
        if key.tag in (SEQ, MAP):
            raise self._problem(key.line, f"a key is {'a list' if key.tag == SEQ else 'a mapping'}: keys must be text")
        kind = {INT: "a number", FLOAT: "a number", BOOL: "a boolean", NULL: "null"}[key.tag]
        if not key.text:
            raise self._problem(key.line, "a key is empty (null): keys must be text")
        raise self._problem(
            key.line, f'the key {key.text!r} is read as {kind}: keys must be text (quote it: "{key.text}")'
        )

    def _check_merge(self, merge: _Built) -> None:
        sources = merge.value if isinstance(merge.value, list) else [merge.value]
        if not all(isinstance(source, dict) for source in sources):
            raise self._problem(merge.line, "<< merges a mapping, or a list of mappings, into this one")
