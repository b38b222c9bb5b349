"""Name folding (`mock_server/scenarios/names.fold_name`), in process.

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
# Letters of other scripts, without the ones that are a base letter plus a mark (Cyrillic short i).
OTHER_SCRIPTS = st.text(
    alphabet="\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u043a\u043b\u043c\u043d"  # Cyrillic
    "\u03b1\u03b2\u03b3\u03b4\u03b5\u03b6\u03b7\u03b8\u03b9\u03ba\u03bb\u03bc\u03bd"  # Greek
    "\u674e\u738b\u5f20\u9648\u00f8\u0142\u00e6",  # CJK (Li, Wang, Zhang, Chen), o with stroke, l with stroke, ae
    min_size=1,
    max_size=8,
)
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


@DETERMINISTIC
@given(OTHER_SCRIPTS, OTHER_SCRIPTS)
def test_letters_of_every_script_count(first: str, second: str) -> None:
    # Two Cyrillic names must not fold to the same empty string, nor "S\u00f8ren" to "Sren".
    assert fold_name(first) == first
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
        ("\u0418\u0412\u0410\u041d", "\u0438\u0432\u0430\u043d"),  # IVAN in Cyrillic capitals
        ("\u0401\u043b\u043a\u0438\u043d", "\u0435\u043b\u043a\u0438\u043d"),  # a Cyrillic accent folds too
    ],
)
def test_examples(spelled: str, plain: str) -> None:
    assert fold_name(spelled) == plain


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ann", "Anne"),
        ("Jon", "John"),
        ("Doe", "Dow"),
        ("Li", "Lu"),
        ("\u0418\u0432\u0430\u043d", "\u041f\u0435\u0442\u0440"),  # Ivan, Petr in Cyrillic
        ("\u0418\u0432\u0430\u043d", "-"),
        ("\u674e", "\u738b"),  # Li, Wang
        ("S\u00f8ren", "Sren"),
        ("\u0141ukasz", "ukasz"),
    ],
)
def test_a_different_letter_is_a_different_name(first: str, second: str) -> None:
    assert fold_name(first) != fold_name(second)
