"""`quizapp deliveries` (list, show, retry, replay, resume, check, new-secret) and `quizapp worker`."""

from __future__ import annotations

import base64
import json

from click.testing import CliRunner

from quizapp.delivery.commands import deliveries, worker
from tests.delivery.support import rows, webhook
from tests.fakes.receiver import WebhookReceiver, always, sequence
from tests.fakes.server import Reply


def run(app, command, *args):
    with app.app_context():
        result = CliRunner().invoke(command, list(args), catch_exceptions=False)
    return result


def test_list_show_then_retry_a_dead_letter(delivery_app, leads_for):
    script = sequence(Reply(400, {"error": "bad field"}), Reply(200, {"ok": True}))
    with WebhookReceiver(script) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(1)
        assert "drained: 0 delivered, 0 failed (will retry), 1 dead" in run(app, worker, "--drain").output
        row = rows(app)[0]

        listed = run(app, deliveries, "list", "--status", "dead")
        assert f"{row.id:>6}  hook" in listed.output and "400 from POST" in listed.output
        as_json = json.loads(run(app, deliveries, "list", "--json").output)
        assert (as_json["id"], as_json["status"], as_json["attempts"]) == (row.id, "dead", 1)

        shown = run(app, deliveries, "show", str(row.id)).output
        assert row.message_id in shown and '"error": "bad field"' in shown and "dead" in shown
        assert '"type":"lead.created"' in shown

        assert run(app, deliveries, "retry", "--destination", "hook").output.strip() == (
            "1 delivery queued for retry"
        )
        assert rows(app)[0].status == "pending"
        assert "1 delivered" in run(app, worker, "--drain").output
        assert [r.headers["webhook-id"] for r in rcv.calls()] == [row.message_id] * 2
    assert rows(app)[0].status == "delivered"


def test_replay_sends_a_delivered_message_again_with_the_same_bytes(delivery_app, leads_for, receiver):
    app = delivery_app([webhook(receiver.hook_url)])
    leads_for(app)(2)
    run(app, worker, "--drain")
    first = rows(app)[0]
    assert run(app, deliveries, "replay", str(first.id)).output.strip() == "1 delivery queued for replay"
    run(app, worker, "--drain")
    calls = receiver.calls()
    assert len(calls) == 3 and calls[2].body == calls[0].body == first.payload
    assert calls[2].headers["webhook-id"] == first.message_id


def test_paused_destination_is_listed_and_resumed_by_hand(delivery_app, leads_for):
    with WebhookReceiver(always(401, {"error": "bad token"})) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(2)
        run(app, worker, "--drain")
        listed = run(app, deliveries, "list").output
        assert "! destination hook: paused (2 waiting, 0 dead): 401 from POST" in listed
        assert "quizapp deliveries resume hook" in listed
        rcv.script = always(200)
        assert "active" in run(app, deliveries, "resume", "hook").output
        run(app, worker, "--drain")
    assert [r.status for r in rows(app)] == ["delivered", "delivered"]


def test_retry_needs_a_selection(delivery_app):
    app = delivery_app([])
    with app.app_context():
        result = CliRunner().invoke(deliveries, ["retry"])
    assert result.exit_code == 2 and "name delivery ids" in result.output


def test_check_reports_missing_environment_variables(delivery_app, monkeypatch):
    app = delivery_app(
        [
            webhook("http://127.0.0.1:9/hook"),
            {"name": "kit", "type": "kit", "settings": {"api_key_env": "KIT_KEY_FOR_TEST"}},
        ]
    )
    monkeypatch.delenv("KIT_KEY_FOR_TEST", raising=False)
    with app.app_context():
        result = CliRunner().invoke(deliveries, ["check"])
    assert result.exit_code == 1
    assert "hook: webhook, for all quizzes: ok" in result.output
    assert "kit: kit, for quizzes that name it: MISSING KIT_KEY_FOR_TEST" in result.output


def test_check_reports_a_broken_file_by_path(make_app, tmp_path):
    path = tmp_path / "destinations.json"
    path.write_text(json.dumps({"destinations": [{"name": "x", "type": "kit", "settings": {}}]}))
    app = make_app()
    app.config["DESTINATIONS_FILE"] = str(path)
    with app.app_context():
        result = CliRunner().invoke(deliveries, ["check"])
    assert result.exit_code == 1
    assert (
        f"{path}: $.destinations[0].settings.api_key_env: Missing data for required field." in result.output
    )


def test_new_secret_is_a_valid_standard_webhooks_secret():
    out = CliRunner().invoke(deliveries, ["new-secret"]).output.strip()
    assert out.startswith("whsec_") and len(base64.b64decode(out[6:])) == 32
