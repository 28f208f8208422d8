from decimal import Decimal

import pytest

from quizapp.definitions import load_data, question_types
from quizapp.definitions.question_types import ParseError, parse_decimal
from tests.helpers import minimal_quiz


@pytest.mark.parametrize("text, value", [
    ("12", Decimal("12")), (" 1,250.50 ", Decimal("1250.50")), ("-3.5", Decimal("-3.5")),
    ("0.3", Decimal("0.3")), ("1 000", Decimal("1000")), ("12,345,678", Decimal("12345678")),
])
def test_parse_decimal_reads_plain_numbers(text, value):
    assert parse_decimal(text) == value


@pytest.mark.parametrize("text", ["1,5", "1,50", "12,34.5", "abc", "1.2.3", "", "NaN", "Infinity", "1e5", "1,2345",
                                  "."])
def test_parse_decimal_refuses_what_it_would_have_to_guess(text):
    with pytest.raises(ParseError):
        parse_decimal(text)


def quiz_with(question):
    data = minimal_quiz(questions=[question], scoring={"model": "tiers", "tiers": [
        {"min": -100, "max": 100, "outcome": "low"}]}, outcomes=[{"id": "low", "title": "Low"}])
    result = load_data(data)
    assert result.errors == [], result.errors
    return result.definition.questions[0]


def test_number_question_with_bands():
    q = quiz_with({"id": "n", "type": "number", "text": "How many leads a month?", "min": 0, "max": 100000,
                   "unit": "leads", "bands": [{"max": 49, "points": 0, "tags": ["list:small"]},
                                              {"min": 50, "max": 499, "points": 5},
                                              {"min": 500, "points": 10, "tags": ["list:big"]}]})
    qt = question_types.get("number")
    assert qt.parse(q, ["1,200"]) == "1200"
    c = qt.contribution(q, "1200")
    assert (c.points, c.tags) == (Decimal(10), ["list:big"])
    assert qt.contribution(q, "49.5").points == Decimal(0)  # between bands: no band
    assert qt.best(q)[0] == Decimal(10)
    assert qt.label(q, "1200") == "1200 leads"
    with pytest.raises(ParseError, match="Please enter 100000 or less."):
        qt.parse(q, ["100001"])
    with pytest.raises(ParseError, match="not a number we can read"):
        qt.parse(q, ["1,5"])


def test_overlapping_number_bands_are_an_error():
    data = minimal_quiz(questions=[{"id": "n", "type": "number", "text": "?", "bands": [
        {"min": 0, "max": 10, "points": 1}, {"min": 10, "max": 20, "points": 2}]}])
    assert [(p.path, p.message) for p in load_data(data).errors] == [
        ("$.questions[0].bands[1]", "this band overlaps another band")]


def test_scale_question():
    q = quiz_with({"id": "s", "type": "scale", "text": "?", "min": 1, "max": 5, "points_per_unit": 2,
                   "weights_per_unit": {"x": 1}})
    qt = question_types.get("scale")
    assert qt.parse(q, ["4"]) == 4
    c = qt.contribution(q, 4)
    assert (c.points, c.weights) == (Decimal(8), {"x": Decimal(4)})
    with pytest.raises(ParseError, match="from 1 to 5"):
        qt.parse(q, ["9"])
    with pytest.raises(ParseError):
        qt.parse(q, ["three"])


def test_optional_text_question():
    q = quiz_with({"id": "t", "type": "text", "text": "Anything else?", "required": False, "max_length": 20})
    qt = question_types.get("text")
    assert qt.parse(q, ["  hello   there "]) == "hello there"
    assert qt.parse(q, [""]) is None
    with pytest.raises(ParseError, match="under 20 characters"):
        qt.parse(q, ["x" * 21])


def test_single_choice_refuses_two_answers():
    q = quiz_with({"id": "c", "type": "single", "text": "?", "options": [
        {"value": "a", "label": "A"}, {"value": "b", "label": "B"}]})
    with pytest.raises(ParseError, match="choose one"):
        question_types.get("single").parse(q, ["a", "b"])


def test_duplicate_option_values_are_an_error():
    data = minimal_quiz()
    data["questions"][0]["options"][1]["value"] = "a"
    assert [(p.path, p.message) for p in load_data(data).errors] == [
        ("$.questions[0].options[1].value", "option value 'a' is used twice")]


@pytest.mark.parametrize("typed, stored", [("0.00000001", "0.00000001"), ("-0", "0"), ("1,250.50", "1250.5"),
                                           ("100", "100"), ("-0.0", "0")])
def test_number_answers_are_stored_as_a_person_reads_them(typed, stored):
    q = quiz_with({"id": "n", "type": "number", "text": "?"})
    assert question_types.get("number").parse(q, [typed]) == stored


@pytest.mark.parametrize("typed, message", [("9" * 100, "at most 30 characters"),
                                            ("1000000000000000", "too large")])
def test_absurd_numbers_get_a_message(typed, message):
    q = quiz_with({"id": "n", "type": "number", "text": "?"})
    with pytest.raises(ParseError, match=message):
        question_types.get("number").parse(q, [typed])
