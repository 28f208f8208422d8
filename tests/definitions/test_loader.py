import time

import pytest

from quizapp.definitions import Catalog, load_data, load_file
from tests.conftest import QUIZZES
from tests.helpers import minimal_quiz, write_json


def problems(data):
    return [(p.path, p.message, p.severity) for p in load_data(data, "x.json").problems]


def test_shipped_definitions_load_without_problems():
    catalog = Catalog(QUIZZES)
    results = {r.file: r for r in catalog.results()}
    assert "funnel-leak.json" in results and "lead-magnet-readiness.json" in results
    for item in results.values():
        assert item.problems == [], item.problems
    quiz = catalog.get("funnel-leak")
    assert [c.id for c in quiz.categories] == ["traffic", "capture", "nurture", "convert"]
    assert len(quiz.questions) == 10
    assert quiz.question("paid_tracking").show_if.op == "in"


def test_definition_is_immutable():
    quiz = load_data(minimal_quiz()).definition
    with pytest.raises(AttributeError):
        quiz.title = "changed"
    with pytest.raises(TypeError):
        quiz.questions[0].options[0].weights["x"] = 1


def test_unknown_key_is_named_with_its_path():
    data = minimal_quiz()
    data["questions"][1]["options"][0]["colour"] = "red"
    assert ("$.questions[1].options[0].colour", "Unknown field.", "error") in problems(data)


def test_type_specific_keys_are_refused_on_other_types():
    data = minimal_quiz()
    data["questions"][0]["max_length"] = 10  # a text-question key on a single-choice question
    assert ("$.questions[0].max_length", "Unknown field.", "error") in problems(data)


def test_missing_outcome_referenced_by_a_tier():
    data = minimal_quiz()
    data["scoring"]["tiers"][1]["outcome"] = "middle"
    assert ("$.scoring.tiers[1].outcome", "there is no outcome 'middle'", "error") in problems(data)


def test_condition_naming_a_question_that_does_not_exist():
    data = minimal_quiz()
    data["questions"][1]["show_if"] = {"question": "q9", "equals": "a"}
    assert ("$.questions[1].show_if.question", "there is no question 'q9'", "error") in problems(data)


def test_condition_on_a_later_question():
    data = minimal_quiz()
    data["questions"][0]["show_if"] = {"question": "q2", "equals": "a"}
    found = problems(data)
    assert found[0][0] == "$.questions[0].show_if.question"
    assert "comes later" in found[0][1]


def test_condition_with_an_option_the_question_does_not_have():
    data = minimal_quiz()
    data["questions"][1]["show_if"] = {"any": [{"question": "q1", "equals": "a"},
                                               {"question": "q1", "in": ["b", "zzz"]}]}
    assert ("$.questions[1].show_if.any[1].in", "question 'q1' has no option 'zzz'", "error") in problems(data)


def test_malformed_condition():
    data = minimal_quiz()
    data["questions"][1]["show_if"] = {"question": "q1", "equals": "a", "gte": 2}
    (path, message, _), = problems(data)
    assert path == "$.questions[1].show_if"
    assert "exactly one of" in message


def test_overlapping_tiers():
    data = minimal_quiz()
    data["scoring"]["tiers"][1]["min"] = 2
    assert ("$.scoring.tiers[1]", "tier 2..5 overlaps tier 0..2", "error") in problems(data)


def test_gapped_tiers():
    data = minimal_quiz()
    data["scoring"]["tiers"][1]["min"] = 4
    assert ("$.scoring.tiers[1]", "scores between 2 and 4 fall in no tier (gap)", "error") in problems(data)


def test_tiers_must_cover_every_reachable_total():
    data = minimal_quiz()
    data["scoring"]["tiers"][1]["max"] = 4  # 3 + 2 = 5 is reachable
    assert ("$.scoring.tiers[1].max", "scores from 5 to 5 fall in no tier (highest possible is 5)",
            "error") in problems(data)


def test_unreachable_outcome_is_a_warning_not_an_error():
    data = minimal_quiz()
    data["outcomes"].append({"id": "never", "title": "Never"})
    data["scoring"]["tiers"].append({"min": 6, "max": 9, "outcome": "never"})
    result = load_data(data, "x.json")
    assert result.definition is not None
    assert [(p.path, p.severity) for p in result.problems] == [("$.scoring.tiers[2]", "warning")]
    assert "no answer path reaches this tier: totals run from 1 to 5" in result.problems[0].message


def test_outcome_no_tier_points_to_is_a_warning():
    data = minimal_quiz()
    data["outcomes"].append({"id": "orphan", "title": "Orphan"})
    assert problems(data) == [("$.outcomes[2]", "outcome 'orphan' is reached by no tier", "warning")]


def test_unknown_question_type_lists_the_known_ones():
    data = minimal_quiz()
    data["questions"][0]["type"] = "slider"
    (path, message, _), = problems(data)
    assert path == "$.questions[0].type"
    assert message == "unknown question type 'slider'; use one of: multiple, number, scale, single, text"


def test_unknown_markdown_variable():
    data = minimal_quiz()
    data["outcomes"][0]["body"] = "Hi {{ first_name }}, {{ frist_name }}"
    (path, message, _), = problems(data)
    assert path == "$.outcomes[0].body"
    assert message.startswith("unknown variable {{ frist_name }}")


def test_invalid_json_reports_line_and_column(tmp_path):
    path = write_json(tmp_path, "broken.json", '{"kind": "quiz",\n "slug": }')
    (problem,) = load_file(path).problems
    assert (problem.file, problem.path) == ("broken.json", "$")
    assert problem.message == "not valid JSON: Expecting value at line 2, column 10"


def test_a_broken_file_does_not_stop_the_others(tmp_path):
    write_json(tmp_path, "good.json", minimal_quiz())
    write_json(tmp_path, "bad.json", minimal_quiz(slug="bad", questions=[]))
    catalog = Catalog(tmp_path, interval=0)
    assert catalog.get("mini") is not None
    assert catalog.get("bad") is None
    bad = next(r for r in catalog.results() if r.file == "bad.json")
    assert [(p.path, p.message) for p in bad.errors] == [("$.questions", "Shorter than minimum length 1.")]


def test_duplicate_slug_is_refused(tmp_path):
    write_json(tmp_path, "a.json", minimal_quiz())
    write_json(tmp_path, "b.json", minimal_quiz(title="Other"))
    catalog = Catalog(tmp_path, interval=0)
    b = next(r for r in catalog.results() if r.file == "b.json")
    assert [(p.path, p.message) for p in b.errors] == [("$.slug", "slug 'mini' is already used by a.json")]


def test_catalog_serves_the_new_version_after_an_edit(tmp_path):
    path = write_json(tmp_path, "mini.json", minimal_quiz())
    catalog = Catalog(tmp_path, interval=0)
    old = catalog.get("mini")
    time.sleep(0.01)
    write_json(tmp_path, "mini.json", minimal_quiz(title="Mini, edited"))
    new = catalog.get("mini")
    assert new.title == "Mini, edited"
    assert new.content_hash != old.content_hash
    # The old version stays available for responses that started on it.
    assert catalog.version(old.content_hash, None) is old
    path.write_text("{ not json")
    assert catalog.get("mini") is new  # a broken edit keeps the last good version live
    broken = catalog.results()[0]
    assert [(p.severity, p.message) for p in broken.problems] == [
        ("error", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 3"),
        ("warning", "still serving the last version that loaded; fix the errors above to publish this one")]
    path.unlink()
    assert catalog.get("mini") is None  # a removed file is gone
