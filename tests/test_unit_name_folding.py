"""Name folding (`mock_server/scenarios/resolver.fold_name`), in process.

The roster compares a request's names with a member's after folding, so `"  JOHN "` and
`"doe."` still match: case, whitespace, punctuation and accents do not make a different name,
and anything else does. Hypothesis disguises names (case flips, spaces, punctuation, accents)
and checks they fold back to the plain name; folding is idempotent and keeps only letters and
digits.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.scenarios import fold_name

DETERMINISTIC = settings(derandomize=True, deadline=None)

PLAIN_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
# Spaces, hyphens, apostrophes (straight, curly, grave, acute), a no-break space, and the like.
SEPARATORS = st.text(alphabet=" \t\n-'.,\u2019\u2018`\u00b4\u00a0_/()\"", max_size=3)
# Combining marks that compose with Latin letters into the accented letters names carry.
ACCENTS = st.sampled_from(["", "\u0301", "\u0300", "\u0302", "\u0308", "\u0303", "\u0327", "\u030c", "\u030a"])


@st.composite
def disguised(draw: st.DrawFn, name: str) -> str:
    """`name` with its case flipped here and there, accents on letters, and separators between them."""
    out = [draw(SEPARATORS)]
    for letter in name:
        cased = letter.upper() if draw(st.booleans()) else letter
        # Composed (NFC) where a precomposed letter exists, as names usually arrive.
        out.append(unicodedata.normalize("NFC", cased + draw(ACCENTS)))
        out.append(draw(SEPARATORS))
    return "".join(out)


@DETERMINISTIC
@given(st.data(), PLAIN_NAMES)
def test_case_whitespace_punctuation_and_accents_fold_away(data: st.DataObject, name: str) -> None:
    assert fold_name(data.draw(disguised(name))) == name


@DETERMINISTIC
@given(st.text())
def test_folding_is_idempotent(name: str) -> None:
    assert fold_name(fold_name(name)) == fold_name(name)


@DETERMINISTIC
@given(st.text())
def test_what_is_left_is_letters_and_digits_only(name: str) -> None:
    folded = fold_name(name)
    assert all(character.isalnum() for character in folded), folded
    assert folded == folded.casefold()


@DETERMINISTIC
@given(PLAIN_NAMES, PLAIN_NAMES)
def test_different_plain_names_stay_different(first: str, second: str) -> None:
    assert (fold_name(first) == fold_name(second)) == (first == second)


@pytest.mark.parametrize(
    ("spelled", "plain"),
    [
        ("  JOHN ", "john"),
        ("doe.", "doe"),
        ("O'Brien-Smith", "obriensmith"),
        ("O\u2019Brien", "obrien"),  # curly apostrophe
        ("Mary Ann", "maryann"),
        ("José", "jose"),
        ("Jose\u0301", "jose"),  # decomposed accent
        ("ZOË", "zoe"),
        ("Françoise", "francoise"),
        ("Nuñez", "nunez"),
        ("Dvořák", "dvorak"),
        ("Ångström", "angstrom"),
        ("Straße", "strasse"),
        ("\uff2a\uff2f\uff28\uff2e", "john"),  # full-width JOHN
        ("O\u02bbahu", "oahu"),  # the okina (a modifier letter) is written or left out alike
        ("John\u00a0Doe", "johndoe"),
        ("Henry 3rd", "henry3rd"),
    ],
)
def test_examples(spelled: str, plain: str) -> None:
    assert fold_name(spelled) == plain


@pytest.mark.parametrize(("first", "second"), [("Ann", "Anne"), ("Jon", "John"), ("Doe", "Dow"), ("Li", "Lu")])
def test_a_different_letter_is_a_different_name(first: str, second: str) -> None:
    assert fold_name(first) != fold_name(second)
