"""Dates in French and English, written once: month names, the days a text names, and
parsing helpers for partial dates.

Month names are folded (no accents, lower case). English month names count only when
capitalised where that matters ("may" is also a verb). Parsing of written dates goes
through `dateparser` (French and English); only where a date is and what it resolves to
is decided here.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date, datetime

from kb.text import fold

# (French, English) per month, folded, January first.
MONTH_NAMES: tuple[tuple[str, str], ...] = (
    ("janvier", "january"), ("fevrier", "february"), ("mars", "march"), ("avril", "april"), ("mai", "may"),
    ("juin", "june"), ("juillet", "july"), ("aout", "august"), ("septembre", "september"),
    ("octobre", "october"), ("novembre", "november"), ("decembre", "december"),
)
MONTH_NUMBER: dict[str, int] = {name: number for number, names in enumerate(MONTH_NAMES, start=1) for name in names}
_ENGLISH = frozenset(english for _, english in MONTH_NAMES)
# Every spelling of a month name in running text (accents or not), for regular expressions.
MONTH_PATTERN = "|".join(
    sorted({*MONTH_NUMBER, "février", "août", "décembre"}, key=lambda name: (-len(name), name))
)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\s+({'|'.join(MONTH_NUMBER)})\b|\b({'|'.join(MONTH_NUMBER)})\s+(\d{{1,2}})\b")


def month_numbers(text: str) -> dict[str, int]:
    """The month names a text uses (folded) with their numbers: "février" -> 2, "May" -> 5.
    English names count only capitalised ("may" is also a verb)."""
    found = {}
    for word in re.findall(r"\w+", text):
        name = fold(word)
        if name in MONTH_NUMBER and (name not in _ENGLISH or word[0].isupper()):
            found[name] = MONTH_NUMBER[name]
    return found


def is_month(word: str) -> bool:
    """Is `word` a month name of either language?"""
    return fold(word) in MONTH_NUMBER


def days(text: str) -> set[tuple[int, int]]:
    """The (month, day) pairs a text names: "19 May 2026", "le 1er avril", "March 12"."""
    found = set()
    for match in _DAY_MONTH.finditer(fold(text)):
        day, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        found.add((MONTH_NUMBER[month], int(day)))
    return found


def month_end(year: int, month: int) -> date:
    """The last day of a month: partial dates resolve to the last day they allow."""
    return date(year, month, calendar.monthrange(year, month)[1])


def safe_date(year: int, month: int, day: int) -> date | None:
    """The date, or None when the three numbers name no day (2026-02-30)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def parse_day(day: str, month: str, year: str) -> date | None:
    """A written day ("18", "avril", "2026"), in either language, or None."""
    import dateparser

    parsed = dateparser.parse(f"{day} {month} {year}", languages=["fr", "en"],
                              settings={"REQUIRE_PARTS": ["day", "month", "year"], "DATE_ORDER": "DMY"})
    return parsed.date() if isinstance(parsed, datetime) else None


@functools.lru_cache(maxsize=4096)
def parse_month(month: str, year: str) -> date | None:
    """The last day of a written month ("mars", "2026" -> 2026-03-31), or None when `month`
    is not a month name."""
    import dateparser

    if month[:1].isdigit():
        return None
    parsed = dateparser.parse(f"{month} {year}", languages=["fr", "en"],
                              settings={"REQUIRE_PARTS": ["month", "year"], "PREFER_DAY_OF_MONTH": "last"})
    # dateparser also reads "2026" alone as a year: the word must have been a month.
    if not isinstance(parsed, datetime) or dateparser.parse(month, languages=["fr", "en"],
                                                            settings={"REQUIRE_PARTS": ["month"]}) is None:
        return None
    return parsed.date()


def parse_relative(n: str, unit: str, base: date) -> date | None:
    """`base` moved forward by a written delay ("30", "jours"; "six", "months"), or None."""
    import dateparser

    unit = unit.casefold()
    english = unit.startswith(("day", "week", "month", "year"))
    phrase = f"in {n} {unit}" if english else f"dans {n} {unit}"
    parsed = dateparser.parse(phrase, languages=["en" if english else "fr"],
                              settings={"RELATIVE_BASE": datetime(base.year, base.month, base.day),
                                        "PREFER_DATES_FROM": "future"})
    return parsed.date() if isinstance(parsed, datetime) else None
