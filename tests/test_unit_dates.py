"""Scenario date expressions (`mock_server/scenarios/dates.py`), in process.

Every form a scenario file may hold: `MM/DD/YYYY`, `today`, `today±N` days, months and years;
calendar edges (month ends, leap days, year boundaries, century years); the text that is
refused and how; `format_date` as the inverse of the absolute form; and that the loader turns
a date it cannot use into `file:line: problem` rather than letting an exception escape.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.scenarios import ScenarioError, load_text
from mock_server.scenarios.dates import format_date, parse_date, resolve_date

DETERMINISTIC = settings(derandomize=True, deadline=None)

TODAY = date(2026, 6, 15)
# Days a relative date may move and still stay inside what `date` can hold from any `today` below.
REACHABLE_DAYS = st.integers(min_value=0, max_value=300_000)
TODAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))


def relative(today: date, sign: str, amount: int, unit: str) -> date:
    return parse_date(f"today{sign}{amount}{unit}", today)


# -- absolute dates ------------------------------------------------------------------------


def test_an_absolute_date_is_that_day_whatever_today_is() -> None:
    assert parse_date("09/20/2006", TODAY) == date(2006, 9, 20)
    assert parse_date("09/20/2006", date(1999, 1, 1)) == date(2006, 9, 20)
    assert parse_date("02/29/2024", TODAY) == date(2024, 2, 29)
    assert parse_date("12/31/1900", TODAY) == date(1900, 12, 31)


@DETERMINISTIC
@given(day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_format_date_writes_what_parse_date_reads_back(day: date) -> None:
    text = format_date(day)
    assert len(text) == 10 and text[2] == text[5] == "/", text
    assert parse_date(text, TODAY) == day


def test_format_date_pads_every_part() -> None:
    assert format_date(date(2006, 9, 2)) == "09/02/2006"
    assert format_date(date(5, 1, 1)) == "01/01/0005"
    assert resolve_date("today-2000y", TODAY) == "06/15/0026"
    assert resolve_date("today-1d", date(2026, 1, 1)) == "12/31/2025"


# -- relative dates ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["today", "today+0d", "today-0d", "today+0m", "today-0y", "today+000d"])
def test_today_and_zero_offsets_are_today(text: str) -> None:
    assert parse_date(text, TODAY) == TODAY


@DETERMINISTIC
@given(today=TODAYS, days=REACHABLE_DAYS)
def test_days_move_by_exactly_that_many_days(today: date, days: int) -> None:
    assert relative(today, "+", days, "d") == today + timedelta(days=days)
    assert relative(today, "-", days, "d") == today - timedelta(days=days)


@DETERMINISTIC
@given(today=TODAYS, months=st.integers(min_value=0, max_value=12 * 800), sign=st.sampled_from("+-"))
def test_months_keep_the_day_unless_the_month_is_shorter(today: date, months: int, sign: str) -> None:
    moved = relative(today, sign, months, "m")
    steps = months if sign == "+" else -months
    assert (moved.year * 12 + moved.month) - (today.year * 12 + today.month) == steps
    assert moved.day == min(today.day, calendar.monthrange(moved.year, moved.month)[1])


@DETERMINISTIC
@given(today=TODAYS, years=st.integers(min_value=0, max_value=800), sign=st.sampled_from("+-"))
def test_a_year_is_twelve_months(today: date, years: int, sign: str) -> None:
    assert relative(today, sign, years, "y") == relative(today, sign, 12 * years, "m")


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # Month ends: the day is clamped to the last day of a shorter month.
        (date(2025, 1, 31), "today+1m", date(2025, 2, 28)),
        (date(2024, 1, 31), "today+1m", date(2024, 2, 29)),
        (date(2024, 3, 31), "today-1m", date(2024, 2, 29)),
        (date(2025, 3, 31), "today-1m", date(2025, 2, 28)),
        (date(2025, 5, 31), "today+1m", date(2025, 6, 30)),
        (date(2025, 8, 31), "today+1m", date(2025, 9, 30)),
        (date(2025, 1, 30), "today+1m", date(2025, 2, 28)),
        (date(2025, 2, 28), "today+1m", date(2025, 3, 28)),  # never pushed to the new month's end
        # Year boundaries, both ways.
        (date(2025, 12, 31), "today+1d", date(2026, 1, 1)),
        (date(2026, 1, 1), "today-1d", date(2025, 12, 31)),
        (date(2025, 12, 15), "today+1m", date(2026, 1, 15)),
        (date(2026, 1, 15), "today-1m", date(2025, 12, 15)),
        (date(2026, 1, 15), "today-13m", date(2024, 12, 15)),
        (date(2025, 11, 30), "today+3m", date(2026, 2, 28)),
        # Leap days.
        (date(2024, 2, 29), "today+1y", date(2025, 2, 28)),
        (date(2024, 2, 29), "today-1y", date(2023, 2, 28)),
        (date(2024, 2, 29), "today+4y", date(2028, 2, 29)),
        (date(2024, 2, 29), "today+48m", date(2028, 2, 29)),
        (date(2024, 2, 28), "today+1d", date(2024, 2, 29)),
        (date(2023, 2, 28), "today+1d", date(2023, 3, 1)),
        (date(2024, 3, 1), "today-1d", date(2024, 2, 29)),
        (date(2024, 2, 29), "today+365d", date(2025, 2, 28)),
        # Century years: 2000 is a leap year, 2100 and 1900 are not.
        (date(1996, 2, 29), "today+4y", date(2000, 2, 29)),
        (date(2096, 2, 29), "today+4y", date(2100, 2, 28)),
        (date(1904, 2, 29), "today-4y", date(1900, 2, 28)),
        # Many digits are fine while the date stays in range.
        (date(2026, 6, 15), "today+0000000030d", date(2026, 7, 15)),
        (date(2026, 6, 15), "today-2025y", date(1, 6, 15)),
    ],
)
def test_calendar_edges(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today) == expected


def test_the_same_text_follows_the_day_it_is_read_on() -> None:
    # Cached by (text, today): a later today must not get an earlier day's answer.
    assert parse_date("today+30d", date(2026, 6, 15)) == date(2026, 7, 15)
    assert parse_date("today+30d", date(2026, 6, 16)) == date(2026, 7, 16)


# -- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Not a real day.
        "02/30/2024",
        "02/29/2023",
        "02/29/2100",
        "04/31/2024",
        "13/01/2024",
        "00/10/2024",
        "01/00/2024",
        "01/32/2024",
        "01/01/0000",
        # Not the form.
        "",
        "1/2/2024",
        "01/02/24",
        "2024-01-02",
        "01-02-2024",
        "01/02/2024 ",
        " 01/02/2024",
        "Today",
        "TODAY",
        "today ",
        " today",
        "today+",
        "today+1",
        "today+d",
        "today+1w",
        "today+1D",
        "today 1d",
        "today+-1d",
        "today++1d",
        "today+1.5d",
        "today+1d+1d",
        "today\n",
        "today+1d\n",
        "09/20/2006\n",
        "\u0660\u0669/\u0662\u0660/\u0662\u0660\u0660\u0666",  # 09/20/2006 in Arabic-Indic digits
        "today+\u0663d",
        "today+1e3d",
        "yesterday",
        "now",
        # A relative date that leaves the calendar.
        "today+8000y",
        "today-2026y",
        "today+96000m",
        "today+3000000d",
        "today-800000d",
        "today+99999999999d",
        "today+9999999999999999999999m",
    ],
)
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, TODAY)


def test_the_form_error_says_which_forms_exist() -> None:
    with pytest.raises(ValueError, match=r"'yesterday' is neither MM/DD/YYYY nor today±N\(d\|m\|y\)"):
        parse_date("yesterday", TODAY)


# -- through the loader -------------------------------------------------------------------------

MEMBER = """\
payers: [{{payerId: P1, payerName: Payer One}}]
members:
  - memberId: M1
    payerId: P1
    firstName: Ada
    lastName: Lovelace
    dateOfBirth: {dob}
    plan: {{startDate: {start}, endDate: {end}}}
"""


def member_file(dob: str = "12/10/1985", start: str = "today-1y", end: str = "today+1y") -> str:
    return MEMBER.format(dob=dob, start=start, end=end)


def test_every_form_loads_and_keeps_its_text() -> None:
    loaded = load_text(member_file(dob="today-30y", start="01/01/2020", end="today+6m"), "d.yaml", TODAY)
    member = loaded.members[0]
    assert member.date_of_birth == "today-30y"
    assert member.coverage.plan == {"startDate": "01/01/2020", "endDate": "today+6m"}


@pytest.mark.parametrize(
    ("dob", "start", "end", "line", "fragment"),
    [
        ("02/30/1985", "today-1y", "today+1y", 7, "day is out of range for month"),
        ("12/10/1985", "02/29/2023", "today+1y", 8, "day is out of range"),
        ("12/10/1985", "today+1d", "today-1d", 8, "plan.startDate is after plan.endDate"),
        ("12/10/1985", "today-1y", "today+8000y", 8, "out of range"),
        # Past what a date can hold: refused like any unusable date, not an exception escaping.
        ("today+99999999d", "today-1y", "today+1y", 7, "'today+99999999d' is out of the calendar's range"),
        ("12/10/1985", "today-1y", "today+99999999999d", 8, "out of the calendar's range"),
    ],
)
def test_a_date_the_loader_cannot_use_is_file_line_problem(
    dob: str, start: str, end: str, line: int, fragment: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_text(member_file(dob, start, end), "d.yaml", TODAY)
    assert str(caught.value).startswith(f"d.yaml:{line}: "), str(caught.value)
    assert fragment in str(caught.value)
