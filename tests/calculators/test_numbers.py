"""Rounding half-up to declared places, per-locale display, and reading what a visitor typed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quizapp.definitions.question_types import ParseError
from quizapp.engine.numbers import format_value, parse_number, plain, round_half_up, rounded


@pytest.mark.parametrize(("value", "places", "expected"), [
    ("2.345", 2, "2.35"), ("-2.345", 2, "-2.35"), ("2.5", 0, "3"), ("3.5", 0, "4"), ("-0.5", 0, "-1"),
    ("1666.665", 2, "1666.67"), ("1.005", 2, "1.01"), ("1250", -2, "1.3E+3"),
])
def test_round_half_up(value, places, expected):
    assert round_half_up(Decimal(value), places) == Decimal(expected)


@pytest.mark.parametrize(("value", "style", "places", "locale", "currency", "expected"), [
    ("1666.666666", "currency", 2, "en_US", "USD", "$1,666.67"),
    ("1666.665", "currency", 2, "en_US", "USD", "$1,666.67"),  # Babel alone would give $1,666.66
    ("1000", "currency", 2, "en_US", "USD", "$1,000.00"),
    ("1000", "currency", 0, "en_US", "USD", "$1,000"),
    ("-166.666", "currency", 2, "en_US", "USD", "-$166.67"),
    ("1666.665", "currency", 2, "de_DE", "EUR", "1.666,67\u00a0\u20ac"),
    ("1666.665", "currency", 2, "fr_FR", "EUR", "1\u202f666,67\u00a0\u20ac"),
    ("12345", "currency", 0, "ja_JP", "JPY", "\uffe512,345"),
    ("0.05", "percent", 0, "en_US", None, "5%"),
    ("0.0525", "percent", 2, "de_DE", None, "5,25\u00a0%"),
    ("0.04445", "percent", 1, "en_US", None, "4.4%"),
    ("0.04455", "percent", 2, "en_US", None, "4.46%"),
    ("1234567.891", "number", 1, "en_US", None, "1,234,567.9"),
    ("1234567.891", "number", 1, "en_IN", None, "12,34,567.9"),
    ("200", "integer", 2, "en_US", None, "200"),
    ("233.5", "integer", 0, "en_US", None, "234"),
    ("-0.001", "number", 2, "en_US", None, "0.00"),
])
def test_format_value(value, style, places, locale, currency, expected):
    assert format_value(Decimal(value), style, places, locale, currency) == expected


def test_rounded_figures_match_the_display():
    assert rounded(Decimal("0.123456"), "percent", 1) == Decimal("0.123")
    assert rounded(Decimal("1666.6666"), "currency", 2) == Decimal("1666.67")
    assert rounded(Decimal("233.3"), "integer", 2) == Decimal("233")


def test_plain_never_uses_an_exponent():
    assert plain(Decimal("1.2E+3")) == "1200"
    assert plain(Decimal("200.00")) == "200"
    assert plain(Decimal("-0")) == "0"
    assert plain(Decimal("0.050")) == "0.05"


@pytest.mark.parametrize(("text", "locale", "style", "expected"), [
    ("1,250.5", "en_US", "number", "1250.5"),
    ("1 250.5", "en_US", "number", "1250.5"),
    (" 42 ", "en_US", "number", "42"),
    (".5", "en_US", "number", "0.5"),
    ("-5", "en_US", "number", "-5"),
    ("$1,250", "en_US", "currency", "1250"),
    ("1,250 USD", "en_US", "currency", "1250"),
    ("-$5", "en_US", "currency", "-5"),
    ("5%", "en_US", "percent", "5"),
    ("0.5 %", "en_US", "percent", "0.5"),
    ("1.234,5", "de_DE", "number", "1234.5"),
    ("1,5", "de_DE", "number", "1.5"),
    ("1.500", "de_DE", "number", "1500"),
    ("12 \u20ac", "de_DE", "currency", "12"),
    ("1 234,5", "fr_FR", "number", "1234.5"),
    ("1\u202f234,5", "fr_FR", "number", "1234.5"),
    ("1\u2019234.5", "de_CH", "number", "1234.5"),
])
def test_parse_number(text, locale, style, expected):
    currency = "USD" if locale == "en_US" else "EUR"
    assert parse_number(text, locale, style=style, currency=currency) == Decimal(expected)


@pytest.mark.parametrize(("text", "locale", "message"), [
    ("1,5", "en_US", "\u201c1,5\u201d is not a number we can read: use a dot for decimals"),
    ("1,25", "en_US", "is not a number we can read"),
    ("12,34,567", "en_US", "is not a number we can read"),
    ("1.5", "de_DE", "\u201c1.5\u201d is not a number we can read: use a comma for decimals (1,5), and '.' "
                     "only between thousands (1.500)."),
    ("1,2,3", "de_DE", "use one comma for decimals"),
    ("1.5", "fr_FR", "use a comma for decimals"),
    ("1e5", "en_US", "\u201c1e5\u201d is not a number."),
    ("NaN", "en_US", "is not a number"),
    ("Infinity", "en_US", "is not a number"),
    ("1..2", "en_US", "is not a number"),
    ("abc", "en_US", "is not a number"),
    ("", "en_US", "Please enter a number."),
    ("  ", "en_US", "Please enter a number."),
])
def test_ambiguous_or_malformed_input_is_refused_with_a_message(text, locale, message):
    with pytest.raises(ParseError) as info:
        parse_number(text, locale)
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "locale", "style", "message"), [
    # a European thousand in an English calculator, and the other way round
    ("1.000", "en_US", "integer", "\u201c1.000\u201d could be read two ways: please write 1000 or 1,000."),
    ("2.500", "en_US", "integer", "\u201c2.500\u201d could be read two ways: please write 2500 or 2,500."),
    ("-12.000", "en_US", "integer", "\u201c-12.000\u201d could be read two ways: please write -12000 or "
                                    "-12,000."),
    ("1,000", "de_DE", "integer", "\u201c1,000\u201d could be read two ways: please write 1000 or 1.000."),
    ("$1.500", "en_US", "currency", "\u201c$1.500\u201d could be read two ways: please write 1500 or 1,500 "
                                    "for thousands, or 1.50 for decimals."),
    ("1.000 USD", "en_US", "currency", "\u201c1.000 USD\u201d could be read two ways: please write 1000 or "
                                       "1,000 for thousands, or 1.00 for decimals."),
    ("12,125 \u20ac", "de_DE", "currency", "\u201c12,125 \u20ac\u201d could be read two ways: please write "
                                           "12125 or 12.125 for thousands, or 12,1250 for decimals."),
])
def test_three_decimals_in_an_integer_or_currency_input_are_refused_as_ambiguous(text, locale, style, message):
    currency = "USD" if locale == "en_US" else "EUR"
    with pytest.raises(ParseError) as info:
        parse_number(text, locale, style=style, currency=currency)
    assert str(info.value) == message


@pytest.mark.parametrize(("text", "locale", "style", "expected"), [
    ("1,000", "en_US", "integer", "1000"),
    ("1,000.000", "en_US", "integer", "1000"),  # the grouping says which mark is which
    ("1000.000", "en_US", "integer", "1000"),  # a grouped thousand has at most three digits in front
    ("0.125", "en_US", "currency", "0.125"),
    ("1.50", "en_US", "currency", "1.5"),
    ("1.1250", "en_US", "currency", "1.125"),
    ("1.000", "en_US", "number", "1"),  # plain numbers and percents keep reading decimals
    ("1.125", "en_US", "percent", "1.125"),
    ("1.000", "de_DE", "integer", "1000"),
    ("1,125", "fr_FR", "currency", "1.125"),  # spaces group thousands there: a comma is only decimals
])
def test_unambiguous_forms_are_still_read(text, locale, style, expected):
    currency = "USD" if locale == "en_US" else "EUR"
    assert parse_number(text, locale, style=style, currency=currency) == Decimal(expected)


@pytest.mark.parametrize(("text", "locale", "currency", "message"), [
    ("\u20ac5", "en_US", "USD", "\u201c\u20ac5\u201d looks like another currency: please enter the amount in "
                                "USD ($)."),
    ("5 EUR", "en_US", "USD", "\u201c5 EUR\u201d looks like another currency: please enter the amount in "
                              "USD ($)."),
    ("5 gbp", "en_US", "USD", "looks like another currency: please enter the amount in USD ($)."),
    ("\u00a35", "en_US", "USD", "looks like another currency"),
    ("CA$5", "en_US", "USD", "looks like another currency"),
    ("$5", "de_DE", "EUR", "\u201c$5\u201d looks like another currency: please enter the amount in "
                           "EUR (\u20ac)."),
    ("5 USD", "de_DE", "EUR", "looks like another currency: please enter the amount in EUR (\u20ac)."),
    ("US$5", "en_CA", "CAD", "looks like another currency: please enter the amount in CAD ($)."),
    ("$5", "en_CA", "USD", "looks like another currency: please enter the amount in USD (US$)."),
    ("$$5", "en_US", "USD", "is not a number we can read"),  # the calculator's own symbol, twice
])
def test_another_currency_in_a_currency_input_is_refused(text, locale, currency, message):
    with pytest.raises(ParseError) as info:
        parse_number(text, locale, style="currency", currency=currency)
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "locale", "currency"), [
    ("$5", "en_US", "USD"), ("5 USD", "en_US", "USD"), ("5 usd", "en_US", "USD"), ("-$5", "en_US", "USD"),
    ("5 \u20ac", "de_DE", "EUR"), ("5 EUR", "de_DE", "EUR"), ("5 $", "de_DE", "USD"), ("US$5", "en_CA", "USD"),
    ("$5", "en_CA", "CAD"), ("CHF 5", "de_CH", "CHF"), ("\u20b95", "en_IN", "INR"),
    ("\uffe55", "ja_JP", "JPY"), ("\u00a55", "ja_JP", "JPY"),  # full-width or plain yen sign
])
def test_the_calculators_own_currency_symbol_or_code_is_accepted(text, locale, currency):
    assert abs(parse_number(text, locale, style="currency", currency=currency)) == Decimal(5)


@pytest.mark.parametrize(("value", "style", "places"), [
    ("-0.001", "number", 2), ("-0.4", "integer", 0), ("-0.0000000001", "percent", 6), ("-0.004", "currency", 2),
])
def test_a_figure_rounded_to_zero_carries_no_minus_sign(value, style, places):
    figure = rounded(Decimal(value), style, places)
    assert figure == 0 and not figure.is_signed()
