"""Decimal helpers for calculators: rounding, per-locale display, and reading what a visitor typed.

Rounding is half-up to the declared number of places (2.345 to 2 places is 2.35, -2.345 is -2.35: halves
go away from zero). A value is rounded once, for display and for storage; the unrounded value is what
other formulas use. Display follows the calculator's locale (CLDR data via Babel): thousands separators,
decimal mark, currency symbol and its position, percent sign.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol, list_currencies

from quizapp.definitions.question_types import ParseError, parse_decimal

STYLES = ("number", "integer", "currency", "percent")
HUNDRED = Decimal(100)
# What a visitor may put between digit groups besides the locale's own separator.
SPACES = (" ", "\u00a0", "\u202f", "\u2009")
# Styles where three digits after the one decimal mark are more likely a thousands group written the
# other way ("1.000" typed by a German visitor on an English page): refused, never guessed.
WHOLE_OR_MONEY = ("integer", "currency")
OTHER_MARK = {".": ",", ",": "."}


def round_half_up(value: Decimal, places: int) -> Decimal:
    """`value` rounded half away from zero to `places` decimals (negative places round to tens, ...)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rounded(value: Decimal, style: str, places: int) -> Decimal:
    """The figure a creator sees and declares in examples: percent values are fractions, so their
    places count after the percent sign (0.12345 as a 1-place percent is 0.123, shown 12.3%)."""
    if style == "integer":
        places = 0
    if style == "percent":
        figure = round_half_up(value * HUNDRED, places) / HUNDRED
    else:
        figure = round_half_up(value, places)
    return abs(figure) if figure == 0 else figure  # -0.001 to 2 places is 0.00, not -0.00


def plain(value: Decimal) -> str:
    """A Decimal as text without an exponent or trailing zeros: "1666.67", "200", "0.05"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_value(value: Decimal, style: str = "number", places: int = 2, locale: str = "en",
                 currency: str | None = None) -> str:
    """`value` rounded half-up to `places` and written for `locale`: "$1,666.67", "5%", "1.234,5"."""
    loc = _locale(locale)
    if style == "integer":
        places = 0
    if style == "percent":
        pattern = loc.percent_formats[None]
    elif style == "currency":
        pattern = loc.currency_formats["standard"]
    else:
        pattern = loc.decimal_formats[None]
    pattern = copy.copy(pattern)
    # Fixed places, so Babel (which rounds half-even) never rounds again after our half-up rounding.
    pattern.frac_prec = (max(places, 0), max(places, 0))
    figure = rounded(value, style, places)
    return pattern.apply(figure, loc, currency=currency or "USD", currency_digits=False)


def currency_symbol(currency: str, locale: str) -> str:
    return get_currency_symbol(currency, _locale(locale))


def currency_affix(currency: str, locale: str) -> tuple[str, str]:
    """(before, after) a currency amount in `locale`: ("$", "") in en_US, ("", "\u20ac") in de_DE."""
    pattern = _locale(locale).currency_formats["standard"].pattern.split(";")[0]
    symbol = currency_symbol(currency, locale)
    return (symbol, "") if pattern.lstrip().startswith("\u00a4") else ("", symbol)


def separators(locale: str) -> tuple[str, str]:
    """(decimal mark, thousands separator) for `locale`."""
    loc = _locale(locale)
    return get_decimal_symbol(loc), get_group_symbol(loc)


def parse_number(text: str, locale: str = "en", *, style: str = "number",
                 currency: str | None = None) -> Decimal:
    """A number as a visitor types it, read the same way with and without JavaScript. Thousands
    separators must group by three; anything ambiguous ('1,5' in English) is refused, never guessed.
    Currency inputs may carry the currency's symbol, percent inputs a '%'. Raises ParseError."""
    shown = (text or "").strip()
    s = shown
    if style == "currency" and currency:
        symbol = currency_symbol(currency, locale)
        s = _strip_currency(s, symbol, currency)
        if _other_currency(s, symbol, currency, locale):
            named = currency if symbol == currency else f"{currency} ({symbol})"
            raise ParseError(f"\u201c{shown}\u201d looks like another currency: please enter the amount in "
                             f"{named}.")
    if style == "percent" and s.endswith("%"):
        s = s[:-1].strip()
    if not s:
        raise ParseError("Please enter a number.")
    if any(ch.isalpha() for ch in s):
        raise ParseError(f"\u201c{shown}\u201d is not a number.")
    decimal_mark, group = separators(locale)
    for space in SPACES:
        s = s.replace(space, "")
    if style in WHOLE_OR_MONEY and ambiguous(s, locale):
        raise ParseError(_two_ways(shown, s, style, decimal_mark, group))
    if decimal_mark == ".":
        return parse_decimal(s) if group in (",", *SPACES) else _refuse_other_group(s, shown)
    # Comma-decimal locales: map onto the dot-decimal form parse_decimal reads, keeping its checks.
    if group in SPACES:
        if "." in s:
            raise ParseError(f"\u201c{shown}\u201d is not a number we can read: use a comma for decimals.")
        mapped = s.replace(",", ".")
    else:
        if "," in s.replace(group, "") and s.count(",") > 1:
            raise ParseError(f"\u201c{shown}\u201d is not a number we can read: use one comma for decimals.")
        mapped = s.replace(",", "\x00").replace(group, ",").replace("\x00", ".")
    try:
        return parse_decimal(mapped)
    except ParseError:
        raise ParseError(f"\u201c{shown}\u201d is not a number we can read: use a comma for decimals "
                         f"(1,5), and {'spaces' if group in SPACES else repr(group)} only between thousands "
                         f"(1{group}500).") from None


def _strip_currency(s: str, symbol: str, code: str) -> str:
    """`s` without the calculator's own currency symbol or code (the code in any case), in front (after
    a minus too) or behind. A full-width symbol also matches its plain form ("\uffe5" and "\u00a5")."""
    for mark in sorted({symbol, unicodedata.normalize("NFKC", symbol), code}, key=len, reverse=True):
        upper, size = s.upper(), len(mark)
        if upper.startswith(mark.upper()):
            return s[size:].strip()
        if upper.startswith("-" + mark.upper()):
            return "-" + s[size + 1:].strip()
        if upper.endswith(mark.upper()):
            return s[:-size].strip()
    return s


def _other_currency(s: str, symbol: str, code: str, locale: str) -> bool:
    """A currency sign that is not in the calculator's own symbol, another currency's symbol in the
    locale ("CA$" when the calculator's is "$"), or another ISO code ("5 EUR")."""
    own = symbol + unicodedata.normalize("NFKC", symbol)
    if any(_is_sign(ch) and ch not in own for ch in s):
        return True
    if any(other != symbol and other in s for other in _signed_symbols(locale)):
        return True
    return any(word.upper() != code and word.upper() in _currency_codes()
               for word in re.findall(r"[A-Za-z]+", s) if len(word) == 3)


def _is_sign(ch: str) -> bool:
    return unicodedata.category(ch) == "Sc"


@lru_cache(maxsize=64)
def _signed_symbols(locale: str) -> tuple[str, ...]:
    """The locale's currency symbols that contain a currency sign ("$", "CA$", "CN\u00a5")."""
    return tuple(sym for sym in set(_locale(locale).currency_symbols.values()) if any(map(_is_sign, sym)))


@lru_cache(maxsize=1)
def _currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def ambiguous(text: str, locale: str) -> bool:
    """True for "1.000" in a locale that groups with ',' (and "1,000" in one that groups with '.'):
    one decimal mark, one to three digits before it (not starting with 0) and exactly three after."""
    decimal_mark, group = separators(locale)
    if OTHER_MARK.get(decimal_mark) != group:
        return False
    return re.fullmatch(rf"[+-]?[1-9]\d{{0,2}}{re.escape(decimal_mark)}\d{{3}}", text) is not None


def _two_ways(shown: str, s: str, style: str, decimal_mark: str, group: str) -> str:
    whole, _, thousands = s.partition(decimal_mark)
    ways = f"please write {whole}{thousands} or {whole}{group}{thousands}"
    if style == "integer":
        return f"\u201c{shown}\u201d could be read two ways: {ways}."
    decimals = thousands.rstrip("0").ljust(2, "0")
    if len(decimals) == 3:
        decimals += "0"  # four places can't be a thousands group
    return (f"\u201c{shown}\u201d could be read two ways: {ways} for thousands, or {whole}{decimal_mark}{decimals} "
            "for decimals.")


def _refuse_other_group(s: str, shown: str) -> Decimal:
    # Dot-decimal locales whose separator is not ',' (e.g. de_CH uses ’): accept only that separator.
    return parse_decimal(s.replace("\u2019", ",").replace("'", ","))
