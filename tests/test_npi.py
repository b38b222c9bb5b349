"""The NPI check digit: CMS's worked examples, and hypothesis over every 9-digit stem."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.npi import check_digit, is_valid_npi

stems = st.text(alphabet="0123456789", min_size=9, max_size=9)

# Digits outside ASCII (U+FF11...): str.isdigit() says yes, an NPI says no.
FULL_WIDTH = "".join(chr(0xFF10 + int(digit)) for digit in "1234567893")


def cms_check_digit(stem: str) -> int:
    """CMS's own formulation, written independently: double alternate digits from the right of the
    9-digit stem, add the digits of the products and the others, add the constant 24 for the
    implied 80840 prefix, and take what is left up to the next multiple of ten."""
    total = 24
    for index, char in enumerate(reversed(stem)):
        digit = int(char)
        if index % 2 == 0:
            total += sum(int(d) for d in str(digit * 2))
        else:
            total += digit
    return (10 - total % 10) % 10


@pytest.mark.parametrize("npi", ["1234567893", "1558598797", "1245319599", "1003000126"])
def test_published_examples_are_valid(npi: str) -> None:
    assert is_valid_npi(npi)


@given(stems)
def test_a_generated_npi_passes_and_matches_cms_formula(stem: str) -> None:
    digit = check_digit(stem)
    assert int(digit) == cms_check_digit(stem)
    assert is_valid_npi(stem + digit)


@given(stems, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_fails(stem: str, position: int, shift: int) -> None:
    npi = stem + check_digit(stem)
    changed = npi[:position] + str((int(npi[position]) + shift) % 10) + npi[position + 1 :]
    assert changed != npi
    assert not is_valid_npi(changed)


@given(st.text(max_size=12).filter(lambda t: not (len(t) == 10 and t.isascii() and t.isdigit())))
def test_anything_but_ten_ascii_digits_fails(text: str) -> None:
    assert not is_valid_npi(text)


@pytest.mark.parametrize(
    "value", [1234567893, None, b"1234567893", ["1234567893"], FULL_WIDTH, "123456789" + FULL_WIDTH[-1]]
)
def test_non_text_and_non_ascii_digits_fail(value: object) -> None:
    assert not is_valid_npi(value)


@pytest.mark.parametrize("stem", ["12345678", "1234567890", "12345678a", FULL_WIDTH[:9]])
def test_check_digit_needs_nine_ascii_digits(stem: str) -> None:
    with pytest.raises(ValueError, match="exactly 9 digits"):
        check_digit(stem)
