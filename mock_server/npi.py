"""The National Provider Identifier's own check: 10 digits, the last a Luhn check digit.

CMS computes the check digit as if the NPI carried the card-issuer prefix `80840` (80 = health,
840 = the United States), so a bare NPI is checked with that prefix in front; the prefix adds a
constant 24 to the Luhn sum. A valid NPI says nothing about whether the provider exists.
"""

from __future__ import annotations

NPI_LENGTH = 10
CARD_ISSUER_PREFIX = "80840"


def _luhn_sum(digits: str) -> int:
    """The Luhn sum of `digits` followed by a check digit still to be found."""
    total = 0
    # From the right: the digit beside the check digit is doubled, then every other one.
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def check_digit(first_nine: str) -> str:
    """The tenth digit that makes `first_nine` a valid NPI."""
    if len(first_nine) != NPI_LENGTH - 1 or not _ascii_digits(first_nine):
        raise ValueError("an NPI's check digit follows exactly 9 digits")
    return str(-_luhn_sum(CARD_ISSUER_PREFIX + first_nine) % 10)


def is_valid_npi(npi: object) -> bool:
    """Ten ASCII digits whose last is the Luhn check digit of the rest under prefix 80840."""
    if not isinstance(npi, str) or len(npi) != NPI_LENGTH or not _ascii_digits(npi):
        return False
    return check_digit(npi[:-1]) == npi[-1]


def _ascii_digits(text: str) -> bool:
    # str.isdigit() accepts '²' and Arabic-Indic digits; an NPI is ASCII 0-9 only.
    return text.isascii() and text.isdigit()
