"""`quizapp validate` runs calculator examples and reports problems by file and JSON path."""

from __future__ import annotations

import json

from click.testing import CliRunner

from quizapp.cli import cli


def test_validate_runs_the_shipped_examples(quizzes_dir):
    result = CliRunner().invoke(cli, ["validate", str(quizzes_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for slug, count in (("leads-needed", 5), ("customer-cost", 4), ("cost-per-lead", 4)):
        assert f"{quizzes_dir / slug}.json: ok (calculator '{slug}', {count} example(s) pass)" in lines


def test_validate_reports_an_example_mismatch_and_a_broken_formula(quizzes_dir):
    path = quizzes_dir / "customer-cost.json"
    data = json.loads(path.read_text())
    data["examples"][1]["expect"]["b_cost_per_customer"] = "$666.66"
    path.write_text(json.dumps(data))
    leads = quizzes_dir / "leads-needed.json"
    data = json.loads(leads.read_text())
    data["values"][1]["formula"] = "ceil(leads_needed / optin_rate"
    leads.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["validate", str(quizzes_dir)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (f"{path}: $.examples[1].expect.b_cost_per_customer: error: example '$5 leads at 0.3% against $40 "
            "leads at 6%': expected '$666.66', got $666.67") in lines
    assert f"{leads}: $.values[1].formula: error: the parentheses do not match (at column 5)" in lines
    assert lines[-1].endswith(" file(s), 2 error(s), 0 warning(s)")


def test_a_broken_calculator_does_not_stop_the_others_from_serving(make_app, quizzes_dir):
    path = quizzes_dir / "cost-per-lead.json"
    data = json.loads(path.read_text())
    data["values"][0]["formula"] = "total_investment / leads / cost_per_lead"
    path.write_text(json.dumps(data))
    app = make_app()
    catalog = app.extensions["quizapp.catalog"]
    assert catalog.get("cost-per-lead") is None
    assert catalog.get("customer-cost") is not None
    problems = [str(p) for item in catalog.results() for p in item.problems]
    assert problems == ["cost-per-lead.json: $.values[0].formula: error: 'cost_per_lead' uses itself"]
