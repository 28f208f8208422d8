import json

from click.testing import CliRunner

from quizapp.cli import cli
from tests.helpers import minimal_quiz, write_json


def test_validate_passes_on_the_shipped_quizzes(quizzes_dir):
    result = CliRunner().invoke(cli, ["validate", str(quizzes_dir)])
    assert result.exit_code == 0, result.output
    assert "funnel-leak.json: ok (quiz 'funnel-leak')" in result.output
    assert result.output.strip().splitlines()[-1].endswith("0 error(s), 0 warning(s)")


def test_validate_reports_each_broken_file_by_file_and_path(tmp_path):
    write_json(tmp_path, "good.json", minimal_quiz())
    broken = minimal_quiz(slug="broken")
    broken["questions"][1]["show_if"] = {"question": "nope", "equals": "a"}
    broken["scoring"]["tiers"][1]["min"] = 5
    write_json(tmp_path, "broken.json", broken)
    write_json(tmp_path, "notjson.json", "{")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{tmp_path / 'broken.json'}: $.questions[1].show_if.question: error: there is no question 'nope'" in lines
    assert (f"{tmp_path / 'broken.json'}: $.scoring.tiers[1]: error: scores between 2 and 5 fall in no tier (gap)"
            in lines)
    assert any(line.startswith(f"{tmp_path / 'notjson.json'}: $: error: not valid JSON") for line in lines)
    assert f"{tmp_path / 'good.json'}: ok (quiz 'mini')" in lines
    assert lines[-1] == "3 file(s), 3 error(s), 0 warning(s)"


def test_validate_strict_fails_on_warnings(tmp_path):
    data = minimal_quiz()
    data["outcomes"].append({"id": "orphan", "title": "Orphan"})
    path = write_json(tmp_path, "w.json", data)
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(cli, ["validate", "--strict", str(path)])
    assert result.exit_code == 1
    assert "warning: outcome 'orphan' is reached by no tier" in result.output


def test_leads_export(app, client, monkeypatch, database_url, quizzes_dir):
    from tests.web.test_flow import submit_gate, take_funnel

    submit_gate(client, take_funnel(client, query="?utm_source=blog"), email="Ex@Example.com")
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", database_url)
    monkeypatch.setenv("QUIZAPP_SECRET_KEY", "test-secret")
    monkeypatch.setenv("QUIZAPP_QUIZZES_DIR", str(quizzes_dir))
    result = CliRunner().invoke(cli, ["leads", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["email"], row["outcome"], row["score"], row["percent"], row["utm_source"]) == (
        "ex@example.com", "nurture", 16, 57.14, "blog")
    assert row["tags"] == ["quiz:funnel-leak", "channel:owned", "channel:paid", "leak:nurture"]
    csv_out = CliRunner().invoke(cli, ["leads", "export"]).output.splitlines()
    assert csv_out[0].startswith("submitted_at,quiz,email,first_name,outcome,score,max_score,percent,tier,lead_score,"
                                 "tags,answers,values,consent")
    assert ",funnel-leak,ex@example.com,Ann,nurture,16,28,57.14,,,quiz:funnel-leak channel:owned" in csv_out[1]
    assert "channels: Search and my blog (SEO), Google Search ads; visitors: 500 to 2,000;" in csv_out[1]
    unknown = CliRunner().invoke(cli, ["leads", "export", "--quiz", "nosuch"])
    assert unknown.exit_code == 2 and "no quiz or calculator 'nosuch'" in unknown.output


def test_csv_cells_cannot_become_formulas(client, monkeypatch, database_url, quizzes_dir):
    from tests.web.test_flow import submit_gate, take_funnel

    submit_gate(client, take_funnel(client, query="?utm_source=%3DHYPERLINK(%22http://x%22)"),
                name="=cmd|' /C calc'!A0", email="f@example.com")
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", database_url)
    monkeypatch.setenv("QUIZAPP_SECRET_KEY", "test-secret")
    monkeypatch.setenv("QUIZAPP_QUIZZES_DIR", str(quizzes_dir))
    import csv
    import io

    (row,) = csv.DictReader(io.StringIO(CliRunner().invoke(cli, ["leads", "export"]).output))
    assert row["first_name"] == "'=cmd|' /C calc'!A0"
    assert row["utm_source"] == "'=HYPERLINK(\"http://x\")"
    assert row["score"] == "16"


def test_validate_checks_the_destinations_a_quiz_names(tmp_path, monkeypatch):
    destinations = write_json(tmp_path, "destinations.json", {"destinations": [
        {"name": "hook", "type": "webhook", "settings": {"url": "http://127.0.0.1:9/h", "secret_env": "HOOK_SECRET"}}]})
    monkeypatch.setenv("QUIZAPP_DESTINATIONS_FILE", str(destinations))
    quizzes = tmp_path / "q"
    quizzes.mkdir()
    path = write_json(quizzes, "mini.json", minimal_quiz(destinations=["hook", "kitt"]))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith(
        f"{path}: $.destinations[1].name: warning: destination 'kitt' is not configured")


def test_validate_reports_a_broken_destinations_file(tmp_path, monkeypatch):
    destinations = write_json(tmp_path, "destinations.json", {"destinations": [{"name": "x", "type": "fax"}]})
    monkeypatch.setenv("QUIZAPP_DESTINATIONS_FILE", str(destinations))
    path = write_json(tmp_path, "mini.json", minimal_quiz())
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{destinations}: $.destinations[0].type: error:" in result.output


def test_serve_says_when_the_port_is_taken():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port or QUIZAPP_PORT" in result.output
