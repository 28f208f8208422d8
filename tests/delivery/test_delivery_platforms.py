"""Each platform adapter against a local fake that enforces the platform's documented rules."""

from __future__ import annotations

import pytest

from tests.delivery.support import rows, worker_for
from tests.fakes.platforms import (
    ActiveCampaignFake,
    BrevoFake,
    KitFake,
    MailchimpFake,
    MailerLiteFake,
    RateLimit,
    SystemeioFake,
)
from tests.fakes.server import Reply

TAGS = ["quiz:mini", "tier:high"]
HOT = {"tags": {"rules": [{"when": {"lead_score": {"min": 40}}, "add": ["hot-lead"]}]}}


@pytest.fixture
def platform_key(monkeypatch):
    monkeypatch.setenv("PLATFORM_KEY", "test-key")
    return "test-key"


def dest(kind: str, base_url: str, **settings) -> dict:
    return {
        "name": kind,
        "type": kind,
        "quizzes": "all",
        "timeout": 2,
        "settings": {"api_key_env": "PLATFORM_KEY", "base_url": base_url, **settings},
        "mapping": HOT,
    }


def paths(fake) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests]


def deliver(delivery_app, leads_for, destination, n=1, **lead):
    app = delivery_app([destination])
    leads_for(app)(n, **lead)
    worker_for(app).drain(timeout=15)
    return app


def test_systeme_creates_contact_tags_and_attaches_them(delivery_app, leads_for, platform_key):
    with SystemeioFake() as fake:
        fake.tags[1] = "quiz:mini"  # exists already: looked up, not created again
        app = deliver(delivery_app, leads_for, dest("systemeio", fake.api), email="Ann@Example.com")
        assert paths(fake) == [
            "POST /api/contacts",
            "GET /api/tags",
            "POST /api/tags",
            "POST /api/tags",
            "POST /api/contacts/1001/tags",
            "POST /api/contacts/1001/tags",
            "POST /api/contacts/1001/tags",
        ]
        [contact] = fake.contacts.values()
        assert contact["email"] == "ann@example.com" and contact["fields"] == {"first_name": "Ann"}
        assert fake.tags_of("ann@example.com") == ["quiz:mini", "tier:high", "hot-lead"]
        assert fake.requests[-1].json() == {"tagId": 1003}
    assert rows(app)[0].status == "delivered"


def test_systeme_existing_contact_is_found_and_patched(delivery_app, leads_for, platform_key):
    with SystemeioFake() as fake:
        fake.contacts[77] = {
            "id": 77,
            "email": "ann@example.com",
            "locale": "en",
            "fields": {"first_name": "A"},
        }
        deliver(delivery_app, leads_for, dest("systemeio", fake.api), email="ann@example.com")
        assert paths(fake)[:3] == ["POST /api/contacts", "GET /api/contacts", "PATCH /api/contacts/77"]
        assert fake.requests[0].status == 422 and fake.requests[1].query == {"email": ["ann@example.com"]}
        assert fake.requests[2].headers["content-type"] == "application/merge-patch+json"
        assert fake.contacts[77]["fields"] == {"first_name": "Ann"}
        assert fake.tags_of("ann@example.com") == ["quiz:mini", "tier:high", "hot-lead"]


def test_systeme_retry_skips_finished_steps_and_uses_cached_tag_ids(delivery_app, leads_for, platform_key):
    with SystemeioFake() as fake:
        fake.fail_once("POST", r"/api/contacts/\d+/tags", Reply(502, {"error": "bad gateway"}))
        app = deliver(delivery_app, leads_for, dest("systemeio", fake.api), email="ann@example.com")
        first_lead = paths(fake)
        # Attempt 1 made the contact and the tags, then failed on the first attach; attempt 2 only attaches.
        assert first_lead.count("POST /api/contacts") == 1 and first_lead.count("POST /api/tags") == 3
        assert first_lead[-4:] == ["POST /api/contacts/1001/tags"] * 4
        assert fake.tags_of("ann@example.com") == ["quiz:mini", "tier:high", "hot-lead"]
        row = rows(app)[0]
        assert (row.status, row.attempts, row.failures) == ("delivered", 2, 1)
        assert row.steps_done == {
            "contact": 1001,
            "tag:quiz:mini": True,
            "tag:tier:high": True,
            "tag:hot-lead": True,
        }
        # A second lead: tag ids come from the shared cache, no listing, no creating.
        fake.requests.clear()
        from tests.delivery.support import Leads

        Leads(app, *_definition())(1, email="bob@example.com")
        worker_for(app).drain(timeout=10)
        assert paths(fake) == ["POST /api/contacts"] + ["POST /api/contacts/1005/tags"] * 3


def _definition():
    from tests.delivery.support import quiz_definition

    return quiz_definition("mini", None)


def test_systeme_tag_deleted_on_the_platform_is_recreated(delivery_app, leads_for, platform_key):
    with SystemeioFake() as fake:
        app = deliver(delivery_app, leads_for, dest("systemeio", fake.api), email="ann@example.com")
        del fake.tags[1002]  # the creator deleted "tier:high" in systeme.io
        from tests.delivery.support import Leads

        Leads(app, *_definition())(1, email="bob@example.com")
        worker_for(app).drain(timeout=10)
        assert fake.tags_of("bob@example.com") == ["quiz:mini", "tier:high", "hot-lead"]
        assert [r.status for r in rows(app)] == ["delivered", "delivered"]


def test_systeme_lists_tags_across_pages(delivery_app, leads_for, platform_key):
    with SystemeioFake() as fake:
        for i in range(1, 131):
            fake.tags[i] = f"old-{i}"
        fake.tags[131] = "hot-lead"
        deliver(delivery_app, leads_for, dest("systemeio", fake.api), email="ann@example.com")
        assert paths(fake).count("GET /api/tags") == 2
        assert sorted(fake.tags.values()).count("hot-lead") == 1


def test_kit_creates_fields_upserts_and_tags_by_email(delivery_app, leads_for, platform_key):
    with KitFake() as fake:
        destination = dest("kit", fake.api)
        destination["mapping"] = {**HOT, "fields": {"quiz_outcome": "outcome"}}
        deliver(delivery_app, leads_for, destination, email="ann@example.com")
        assert paths(fake) == [
            "GET /v4/custom_fields",
            "POST /v4/custom_fields",
            "POST /v4/subscribers",
            "GET /v4/tags",
            "POST /v4/tags",
            "POST /v4/tags",
            "POST /v4/tags",
            "POST /v4/tags/1002/subscribers",
            "POST /v4/tags/1003/subscribers",
            "POST /v4/tags/1004/subscribers",
        ]
        sub = fake.subscribers["ann@example.com"]
        assert (sub["first_name"], sub["state"], sub["fields"]) == ("Ann", "active", {"quiz_outcome": "high"})
        assert fake.tags_of("ann@example.com") == ["quiz:mini", "tier:high", "hot-lead"]


def test_kit_rate_limit_is_respected_across_workers(delivery_app, leads_for, platform_key):
    """The fake allows 6 requests per rolling second; the destination is told the same; two workers
    share the budget through the database and never get a 429."""
    import threading

    with KitFake(rate=RateLimit(6, 1.0)) as fake:
        destination = dest("kit", fake.api)
        destination["rate_limit"] = {"requests": 6, "per_seconds": 1}
        destination["mapping"] = {"tags": {"include": "none", "add": ["quiz-lead"]}}
        app = delivery_app([destination])
        leads_for(app)(4)
        workers = [worker_for(app, batch_size=1) for _ in range(2)]
        threads = [threading.Thread(target=w.drain, kwargs={"timeout": 20}) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert fake.throttled == 0
        times = sorted(r.at for r in fake.requests)
        # Never more than 6 calls inside any one second, whichever worker made them.
        assert all(later - first >= 1.0 for first, later in zip(times, times[6:], strict=False))
        assert paths(fake).count("POST /v4/subscribers") == 4 and len(times) >= 10
        assert sorted(fake.tags_of(f"lead{i}@example.com") for i in range(1, 5)) == [["quiz-lead"]] * 4
    assert [r.status for r in rows(app)] == ["delivered"] * 4


def test_mailchimp_upserts_by_hash_then_tags_in_a_separate_call(delivery_app, leads_for, monkeypatch):
    monkeypatch.setenv("PLATFORM_KEY", "0123456789abcdef-us14")
    with MailchimpFake() as fake:
        deliver(
            delivery_app,
            leads_for,
            dest("mailchimp", fake.api, list_id="a1b2c3", double_opt_in=True),
            email=" Ann.One@Example.COM",
        )
        import hashlib

        digest = hashlib.md5(b"ann.one@example.com").hexdigest()  # noqa: S324
        assert paths(fake) == [
            f"PUT /3.0/lists/a1b2c3/members/{digest}",
            f"POST /3.0/lists/a1b2c3/members/{digest}/tags",
        ]
        assert fake.requests[0].json() == {
            "email_address": "ann.one@example.com",
            "merge_fields": {"FNAME": "Ann"},
            "status_if_new": "pending",
        }
        assert fake.requests[1].json() == {
            "tags": [{"name": t, "status": "active"} for t in [*TAGS, "hot-lead"]]
        }
        member = fake.members[digest]
        assert member["status"] == "pending" and member["tags"] == [*TAGS, "hot-lead"]


def test_mailchimp_existing_member_gets_its_new_tags(delivery_app, leads_for, monkeypatch):
    import hashlib

    monkeypatch.setenv("PLATFORM_KEY", "0123456789abcdef-us14")
    digest = hashlib.md5(b"ann@example.com").hexdigest()  # noqa: S324
    with MailchimpFake() as fake:
        fake.members[digest] = {
            "id": digest,
            "email_address": "ann@example.com",
            "tags": ["old"],
            "status": "subscribed",
            "merge_fields": {},
        }
        deliver(
            delivery_app, leads_for, dest("mailchimp", fake.api, list_id="a1b2c3"), email="ann@example.com"
        )
        assert fake.members[digest]["tags"] == ["old", *TAGS, "hot-lead"]
        assert fake.members[digest]["status"] == "subscribed"


def test_mailchimp_compliance_state_is_dead_lettered_with_the_body(delivery_app, leads_for, monkeypatch):
    monkeypatch.setenv("PLATFORM_KEY", "0123456789abcdef-us14")
    with MailchimpFake() as fake:
        fake.compliance.add("gone@example.com")
        app = deliver(
            delivery_app, leads_for, dest("mailchimp", fake.api, list_id="a1b2c3"), email="gone@example.com"
        )
        assert len(fake.requests) == 1
    row = rows(app)[0]
    assert row.status == "dead" and "Member In Compliance State" in row.last_error


def test_mailchimp_wrong_key_pauses_the_destination(delivery_app, leads_for, monkeypatch):
    from tests.delivery.test_delivery_webhook import state

    monkeypatch.setenv("PLATFORM_KEY", "wrong-us14")
    with MailchimpFake() as fake:
        app = deliver(delivery_app, leads_for, dest("mailchimp", fake.api, list_id="a1b2c3"), n=2)
        assert len(fake.requests) == 1
    st = state(app, "mailchimp")
    assert st.status == "paused" and "API Key Invalid" in st.reason
    assert [r.status for r in rows(app)] == ["pending", "pending"]


def test_mailerlite_creates_groups_and_upserts_with_them(delivery_app, leads_for, platform_key):
    with MailerLiteFake() as fake:
        fake.groups["555"] = "quiz:mini"
        deliver(
            delivery_app, leads_for, dest("mailerlite", fake.api, groups=["555"]), email="ann@example.com"
        )
        assert paths(fake) == [
            "GET /api/groups",
            "POST /api/groups",
            "POST /api/groups",
            "POST /api/subscribers",
        ]
        assert fake.requests[-1].json() == {
            "email": "ann@example.com",
            "fields": {"name": "Ann"},
            "groups": ["555", "1001", "1002"],
            "status": "active",
        }
        assert fake.groups_of("ann@example.com") == ["quiz:mini", "tier:high", "hot-lead"]
        assert fake.throttled == 0


def test_activecampaign_syncs_contact_and_tags_without_commas(delivery_app, leads_for, platform_key):
    with ActiveCampaignFake() as fake:
        fake.tags["9"] = "Quiz:Mini"  # names compare without regard to case
        destination = dest("activecampaign", fake.api)
        destination["mapping"] = {"tags": {"add": ["Funnel, leak"]}, "fields": {"2": "outcome"}}
        deliver(delivery_app, leads_for, destination, email="ann@example.com")
        assert fake.throttled == 0  # the default spacing keeps within 5 requests a second
        assert fake.contacts["ann@example.com"]["fields"] == {"2": "high"}
        assert fake.tags_of("ann@example.com") == ["Quiz:Mini", "tier:high", "Funnel leak"]
        assert paths(fake).count("POST /api/3/tags") == 2


def test_brevo_upserts_with_attributes_and_lists_for_tags(delivery_app, leads_for, platform_key):
    with BrevoFake() as fake:
        destination = dest(
            "brevo", fake.api, list_ids=[3], lists={"hot-lead": 7, "tier:low": 8}, tags_attribute="QUIZ_TAGS"
        )
        destination["mapping"] = {**HOT, "fields": {"quiz_outcome": "outcome", "QUIZ_SCORE": "score"}}
        app = delivery_app([destination])
        leads = leads_for(app)
        leads(1, email="ann@example.com")
        leads(1, email="ann@example.com", updated=True)
        worker_for(app).drain(timeout=10)
        assert [r.status for r in fake.requests] == [201, 204]
        assert fake.requests[0].json() == {
            "email": "ann@example.com",
            "listIds": [3, 7],
            "updateEnabled": True,
            "attributes": {
                "FIRSTNAME": "Ann",
                "QUIZ_OUTCOME": "high",
                "QUIZ_SCORE": 4,
                "QUIZ_TAGS": "quiz:mini, tier:high, hot-lead",
            },
        }
        contact = fake.contacts["ann@example.com"]
        assert contact["listIds"] == [3, 7] and contact["attributes"]["QUIZ_SCORE"] == 4


def test_brevo_throttle_honours_its_reset_header(delivery_app, leads_for, platform_key):
    with BrevoFake() as fake:
        fake.fail_once(
            "POST", "/v3/contacts", Reply(429, {"code": "too_many_requests"}, {"x-sib-ratelimit-reset": "1"})
        )
        app = deliver(delivery_app, leads_for, dest("brevo", fake.api, list_ids=[3]))
        assert [r.status for r in fake.requests] == [429, 201]
        assert fake.requests[1].at - fake.requests[0].at >= 1.0
    assert (rows(app)[0].status, rows(app)[0].failures) == ("delivered", 0)


def test_brevo_unknown_attribute_is_dead_lettered_with_the_message(delivery_app, leads_for, platform_key):
    with BrevoFake() as fake:
        destination = dest("brevo", fake.api)
        destination["mapping"] = {"fields": {"nickname": "first_name"}}
        app = deliver(delivery_app, leads_for, destination)
    assert rows(app)[0].status == "dead" and "Attribute NICKNAME does not exist" in rows(app)[0].last_error


def test_activecampaign_tag_created_meanwhile_by_another_worker_is_used(
    delivery_app, leads_for, platform_key
):
    with ActiveCampaignFake() as fake:
        original = fake.search_tags

        def search_then_race(req):
            reply = original(req)
            if (req.query.get("search") or [""])[0] == "tier:high" and "77" not in fake.tags:
                fake.tags["77"] = "Tier:High"  # another worker creates it right after our search
            return reply

        fake.search_tags = search_then_race
        app = deliver(delivery_app, leads_for, dest("activecampaign", fake.api), email="ann@example.com")
        assert fake.tags_of("ann@example.com") == ["quiz:mini", "Tier:High", "hot-lead"]
    assert rows(app)[0].status == "delivered"
