"""Identifiers (`mock_server/ids.py` IdSource), in process.

With a seed, every identifier the mock mints (verification UUIDs, tokens, Svix-style ids,
webhook signing keys) repeats from run to run and again after `reseed()` (a reset); different
seeds give different sequences. Without a seed they do not repeat, and UUIDs are always
RFC 4122 version 4 in canonical form.
"""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.ids import IdSource

DETERMINISTIC = settings(derandomize=True, deadline=None)
SEEDS = st.integers(min_value=0, max_value=2**64)
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TOKEN_ALPHABET = set(string.ascii_letters + string.digits)


def draws(ids: IdSource) -> list[object]:
    """One of each kind of identifier, in the order a run might mint them."""
    return [ids.uuid(), ids.token(), ids.prefixed("msg"), ids.secret_bytes(24), ids.uuid(), ids.token(12)]


@DETERMINISTIC
@given(SEEDS)
def test_the_same_seed_gives_the_same_sequence(seed: int) -> None:
    assert draws(IdSource(seed)) == draws(IdSource(seed))


@DETERMINISTIC
@given(SEEDS)
def test_reseed_starts_the_sequence_over(seed: int) -> None:
    ids = IdSource(seed)
    first = draws(ids)
    assert draws(ids) != first  # the sequence moves on
    ids.reseed()
    assert draws(ids) == first


@DETERMINISTIC
@given(SEEDS, SEEDS)
def test_different_seeds_give_different_sequences(first: int, second: int) -> None:
    if first != second:
        assert draws(IdSource(first)) != draws(IdSource(second))


@DETERMINISTIC
@given(st.integers(min_value=1, max_value=2**64))
def test_a_negative_seed_is_not_its_positive(seed: int) -> None:
    assert draws(IdSource(-seed)) != draws(IdSource(seed))
    assert draws(IdSource(-seed)) == draws(IdSource(-seed))


def test_non_negative_seeds_keep_the_identifiers_they_have_always_given() -> None:
    ids = IdSource(42)
    assert (ids.uuid(), ids.token(12), ids.secret_bytes(4).hex()) == (
        "bdd640fb-0667-4ad1-9c80-317fa3b1799d",
        "rpoiVgRV5IfL",
        "6c031199",
    )


def test_seed_zero_is_a_seed() -> None:
    assert draws(IdSource(0)) == draws(IdSource(0))


def test_without_a_seed_nothing_repeats() -> None:
    one, other = IdSource(), IdSource()
    assert draws(one) != draws(other)
    before = draws(one)
    one.reseed()  # nothing to start over from: the sequence just goes on
    assert draws(one) != before


@pytest.mark.parametrize("seed", [None, 0, 42, 2**64])
def test_uuids_are_canonical_version_4(seed: int | None) -> None:
    ids = IdSource(seed)
    minted = [ids.uuid() for _ in range(500)]
    for text in minted:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
        assert UUID4.fullmatch(text), text
    assert len(set(minted)) == len(minted)


@DETERMINISTIC
@given(SEEDS)
def test_a_uuid_is_what_the_uuid_module_makes_of_the_same_bits(seed: int) -> None:
    text = IdSource(seed).uuid()
    assert str(uuid.UUID(int=uuid.UUID(text).int, version=4)) == text


@pytest.mark.parametrize(
    ("mint", "length"),
    [
        (lambda ids: ids.token(), 48),
        (lambda ids: ids.token(12), 12),
        (lambda ids: ids.token(0), 0),
    ],
)
def test_tokens_are_letters_and_digits_of_the_length_asked(mint: Callable[[IdSource], str], length: int) -> None:
    for seed in (None, 7):
        token = mint(IdSource(seed))
        assert len(token) == length and set(token) <= TOKEN_ALPHABET


def test_prefixed_ids_are_svix_shaped() -> None:
    for seed in (None, 7):
        ids = IdSource(seed)
        assert re.fullmatch(r"msg_[A-Za-z0-9]{27}", ids.prefixed("msg"))
        assert re.fullmatch(r"ep_[A-Za-z0-9]{10}", ids.prefixed("ep", 10))


@pytest.mark.parametrize("seed", [None, 7])
def test_secret_bytes_are_as_many_bytes_as_asked(seed: int | None) -> None:
    ids = IdSource(seed)
    assert [len(ids.secret_bytes(n)) for n in (1, 24, 32, 75)] == [1, 24, 32, 75]


def test_unseeded_secrets_do_not_come_from_the_identifier_generator() -> None:
    # Unseeded, identifiers come from a generator seeded once from the OS; keys must not, or
    # seeing enough identifiers would tell the signing key. Two sources whose identifier
    # generators are forced into the same state still draw different keys.
    one, other = IdSource(), IdSource()
    other._rng.setstate(one._rng.getstate())
    assert one.uuid() == other.uuid()
    assert one.secret_bytes(32) != other.secret_bytes(32)
