import pytest

from quizapp.definitions import load_data
from quizapp.definitions.contrast import ratio
from tests.helpers import minimal_quiz


@pytest.mark.parametrize("a, b, expected", [
    ("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777", "#fff", 4.48), ("#2754c5", "#fff", 6.64),
])
def test_ratio(a, b, expected):
    assert round(ratio(a, b), 2) == expected


def test_a_pale_primary_colour_is_a_warning_naming_the_key():
    result = load_data(minimal_quiz(theme={"primary": "#8ab4f8"}), "x.json")
    assert result.definition is not None
    assert [(p.path, p.severity) for p in result.problems] == [("$.theme.primary", "warning"),
                                                               ("$.theme.primary", "warning")]
    assert result.problems[0].message.startswith("white button text on the primary colour has a contrast of 2.")


def test_calculators_are_checked_too(quizzes_dir):
    import json

    data = json.loads((quizzes_dir / "cost-per-lead.json").read_text())
    data["theme"] = {"text": "#999999"}
    problems = load_data(data, "c.json").problems
    assert [p.path for p in problems] == ["$.theme.text"]
