"""The scenario YAML reader: PyYAML's safe subset of data, with either parser, and bounded."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import ROOT

from mock_server.bounded_yaml import Loader, PurePythonLoader, YAMLProblem, read

PARSERS = [Loader, PurePythonLoader]


class SafeNoTimestamps(yaml.SafeLoader):
    """PyYAML's own safe loading, for comparison; dates stay text, as in the reader."""


SafeNoTimestamps.yaml_implicit_resolvers = PurePythonLoader.yaml_implicit_resolvers

SAMPLES = {
    "default": (ROOT / "scenarios" / "default.yaml").read_text(),
    "scalars": (
        "a: [1, -2, 0x1F, 0o17, 1_000, 1:30, 1.5, -.5e+3, 6.8523015e+5, .5, yes, No, on, ~, null, '', x, 'q']\n"
        'b: {"c": 12/10/1985, d: 1985-12-10, e: "00012", f: !!str 12, g: ! 12, h: !!float 1}\n'
        "i: |\n  block\n  text\nj: >\n  folded\n  text\n"
    ),
    "aliases": "a: &a {x: 1, y: [1, 2]}\nb: [*a, *a]\nc: &c hello\nd: *c\n",
    "merges": "base: &b {x: 1, y: 2}\nmore: &m {y: 3, z: 4}\none: {<<: *b, x: 9}\nmany: {<<: [*b, *m], w: 0}\n",
    "empty-values": "a:\nb: []\nc: {}\nd: ''\n",
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("text", SAMPLES.values(), ids=SAMPLES.keys())
def test_reads_what_pyyaml_safe_load_reads(parser: Any, text: str) -> None:
    assert read(text, parser).data == yaml.load(text, Loader=SafeNoTimestamps)


@pytest.mark.parametrize("parser", PARSERS)
def test_an_alias_shares_its_anchors_value(parser: Any) -> None:
    data = read(SAMPLES["aliases"], parser).data
    assert data["b"][0] is data["a"] and data["b"][1] is data["a"]


@pytest.mark.parametrize("parser", PARSERS)
def test_every_key_and_item_has_its_line(parser: Any) -> None:
    document = read("a: 1\nb:\n  - x\n  - {c: &c [y]}\nd: *c\nm: {<<: {e: 1}, f: 2}\n", parser)
    assert [document.line(path) for path in [(), ("a",), ("b",), ("b", 0), ("b", 1), ("b", 1, "c")]] == [
        1,
        1,
        2,
        3,
        4,
        4,
    ]
    assert document.line(("d", 0)) == 4  # an alias's content is where its anchor is
    assert document.line(("m", "e")) == document.line(("m", "f")) == 6
    # The deepest part of a path that exists.
    assert document.line(("b", 7, "x")) == document.line(("b",)) and document.line(("zz",)) == 1


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file_has_no_data(parser: Any, text: str) -> None:
    assert read(text, parser).data is None


def test_the_pure_python_parser_lets_no_lone_surrogate_through() -> None:
    # libyaml refuses the escape itself; PyYAML's own parser makes a string UTF-8 cannot encode.
    with pytest.raises(YAMLProblem, match=r"name: a lone UTF-16 surrogate"):
        read('name: "x\\ud800"\n', PurePythonLoader)
    with pytest.raises(yaml.YAMLError):
        read('name: "x\\ud800"\n', Loader)


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, "- " * 100_000 + "x\n", "{a: " * 50_000 + "1" + "}" * 50_000]
)
def test_deep_nesting_stops_at_the_limit_with_either_parser(parser: Any, text: str) -> None:
    with pytest.raises(YAMLProblem, match=r"nest deeper than 32 levels") as caught:
        read(text, parser)
    assert caught.value.line == 1
