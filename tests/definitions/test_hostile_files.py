"""Definition files that once hung or crashed the catalog: each is now a problem with a path."""

import json

import pytest

from quizapp.definitions import Catalog, load_data, load_file
from tests.helpers import minimal_quiz, write_json


def only_problem(path):
    item = load_file(path)
    assert item.definition is None
    (problem,) = item.problems
    return problem.path, problem.message


def test_a_scale_of_a_billion_billion_steps_is_reported_not_walked(tmp_path):
    data = minimal_quiz()
    data["questions"].append({"id": "s", "type": "scale", "text": "?", "min": -10**18, "max": 10**18})
    problems = [(p.path, p.message) for p in load_data(data).problems]
    assert ("$.questions[2].min", "Must be greater than or equal to -1000 and less than or equal to 1000.") in problems
    data["questions"][2].update({"min": -1000, "max": 1000})
    problems = [(p.path, p.message) for p in load_data(data).problems]
    assert ("$.questions[2].max", "a scale has at most 21 steps; use a number question for wider ranges") in problems


@pytest.mark.parametrize("text, message", [
    ('{"kind": "quiz", "points": ' + "9" * 5000 + "}", "not valid JSON: Exceeds the limit"),
    ("[" * 100_000 + "]" * 100_000, "objects and lists nest more than 32 levels deep"),
    ('{"kind": "quiz", "kind": "calculator"}', "the key 'kind' appears twice in one object"),
])
def test_json_the_parser_refuses(tmp_path, text, message):
    path, found = only_problem(write_json(tmp_path, "x.json", text))
    assert path == "$" and found.startswith(message)


@pytest.mark.parametrize("kind", [["quiz"], {"a": 1}, 7])
def test_kind_of_the_wrong_type(kind):
    (problem,) = load_data({"kind": kind}).problems
    assert problem.path == "$.kind" and problem.message.startswith("'kind' must be one of:")


def test_deeply_nested_conditions_are_refused():
    data = minimal_quiz()
    cond = {"question": "q1", "equals": "a"}
    for _ in range(40):
        cond = {"all": [cond]}
    data["questions"][1]["show_if"] = cond
    (problem,) = load_data(data).problems
    assert (problem.path, problem.message) == ("$", "objects and lists nest more than 32 levels deep")


@pytest.mark.parametrize("field, value", [("slug", "mini\n"), ("tags", ["ok\n"])])
def test_a_trailing_new_line_is_not_a_valid_name(field, value):
    data = minimal_quiz(**{field: value})
    assert load_data(data).definition is None


def test_the_catalog_keeps_serving_the_others(tmp_path):
    write_json(tmp_path, "good.json", minimal_quiz())
    write_json(tmp_path, "huge.json", '{"kind": "quiz", "n": ' + "1" * 5000 + "}")
    write_json(tmp_path, "deep.json", "[" * 5000 + "]" * 5000)
    write_json(tmp_path, "kind.json", json.dumps({"kind": ["quiz"]}))
    catalog = Catalog(tmp_path, interval=0)
    assert catalog.get("mini") is not None
    assert sorted(r.file for r in catalog.results() if r.errors) == ["deep.json", "huge.json", "kind.json"]
