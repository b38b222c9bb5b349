"""Scenario dates: MM/DD/YYYY, or relative to the mock clock's today (`today+30d`)."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from functools import lru_cache

# Matched whole (fullmatch: `$` also matches before a trailing newline), ASCII digits only
# (`\d` also matches other scripts' digits, which int() reads).
_RELATIVE = re.compile(r"today(?:([+-])([0-9]+)([dmy]))?")
_ABSOLUTE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


# Every resolution compares a few dates from a small set (roster birth dates, plan bounds).
@lru_cache(maxsize=4096)
def parse_date(text: str, today: date) -> date:
    """Raise ValueError for anything that is not a real date in either form."""
    if match := _ABSOLUTE.fullmatch(text):
        month, day, year = (int(g) for g in match.groups())
        return date(year, month, day)
    if match := _RELATIVE.fullmatch(text):
        sign, amount, unit = match.groups()
        if sign is None:
            return today
        n = int(amount) * (1 if sign == "+" else -1)
        try:
            if unit == "d":
                return today + timedelta(days=n)
            return _add_months(today, n if unit == "m" else 12 * n)
        except OverflowError:  # past what `date` holds: an unusable date, like 02/30 (ValueError)
            raise ValueError(f"{text!r} is out of the calendar's range") from None
    raise ValueError(f"{text!r} is neither MM/DD/YYYY nor today±N(d|m|y)")


def format_date(day: date) -> str:
    # Not strftime: its %Y gives "26", not "0026", for the year 26 on glibc.
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def resolve_date(text: str, today: date) -> str:
    return format_date(parse_date(text, today))
