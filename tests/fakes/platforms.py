"""Local fakes of the email platforms. Each enforces the rules in the platforms' public API documentation
that the delivery code must respect: the auth header, the body shape, upsert or not, tag ids, rate limits,
error bodies. State is kept in plain dicts so tests can assert what a real account would hold."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
import time
from collections import deque
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RateLimit:
    """At most ``limit`` requests in any rolling ``window`` seconds."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.times: deque[float] = deque()
        self.lock = threading.Lock()

    def hit(self) -> float | None:
        """None when allowed; else seconds until a slot frees up."""
        now = time.monotonic()
        with self.lock:
            while self.times and now - self.times[0] >= self.window:
                self.times.popleft()
            if len(self.times) >= self.limit:
                return self.window - (now - self.times[0])
            self.times.append(now)
            return None


class Platform(FakeServer):
    """Routes ``(METHOD, regex)`` to handlers; checks auth first; ``fail`` scripts one-off failures."""

    routes: list[tuple[str, str, str]] = []  # (method, path regex, handler name)

    def __init__(self, key: str = "test-key", rate: RateLimit | None = None):
        super().__init__()
        self.key = key
        self.rate = rate
        self.ids = itertools.count(1001)
        self.failures: list[tuple[str, str, Reply]] = []  # (method, path regex, reply) used once each
        self.throttled = 0

    def fail_once(self, method: str, path: str, reply: Reply) -> None:
        self.failures.append((method, path, reply))

    def authorised(self, req: Request) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Reply:
        return Reply(401, {"error": "unauthorised"})

    def throttle(self, wait: float) -> Reply:
        return Reply(429, {"error": "too many requests"}, {"Retry-After": str(max(1, round(wait)))})

    def handle(self, req: Request) -> Reply:
        if not self.authorised(req):
            return self.unauthorised()
        if self.rate is not None:
            wait = self.rate.hit()
            if wait is not None:
                self.throttled += 1
                return self.throttle(wait)
        for i, (method, pattern, reply) in enumerate(self.failures):
            if method == req.method and re.fullmatch(pattern, req.path):
                del self.failures[i]
                return reply
        for method, pattern, name in self.routes:
            match = re.fullmatch(pattern, req.path)
            if method == req.method and match:
                with self.lock:
                    return getattr(self, name)(req, *match.groups())
        return Reply(404, {"error": f"no route {req.method} {req.path}"})

    def body(self, req: Request) -> Any:
        if not req.headers.get("content-type", "").startswith(
            ("application/json", "application/merge-patch+json")
        ):
            raise ValueError("a JSON body is required")
        return req.json()


def _only(body: dict, allowed: set[str], required: set[str] = frozenset()) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = set(body) - allowed
    if unknown:
        return f"unknown keys: {sorted(unknown)}"
    missing = set(required) - set(body)
    if missing:
        return f"missing keys: {sorted(missing)}"
    return None


class SystemeioFake(Platform):
    """systeme.io: POST /contacts is NOT an upsert (422 with violations on an existing email)."""

    routes = [
        ("POST", r"/api/contacts", "create_contact"),
        ("GET", r"/api/contacts", "find_contact"),
        ("PATCH", r"/api/contacts/(\d+)", "update_contact"),
        ("GET", r"/api/tags", "list_tags"),
        ("POST", r"/api/tags", "create_tag"),
        ("POST", r"/api/contacts/(\d+)/tags", "tag_contact"),
    ]
    field_slugs = {"first_name", "surname", "phone_number"}

    def __init__(self, **kw):
        super().__init__(**kw)
        self.contacts: dict[int, dict] = {}
        self.tags: dict[int, str] = {}
        self.contact_tags: dict[int, list[int]] = {}

    @property
    def api(self) -> str:
        return self.url + "/api"

    def authorised(self, req):
        return req.headers.get("x-api-key") == self.key

    def throttle(self, wait):
        return Reply(
            429,
            {"detail": "Too many requests"},
            {
                "X-RateLimit-Limit": str(self.rate.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Refill": str(max(1, round(wait))),
            },
        )

    def _violation(self, path, message):
        return Reply(
            422,
            {
                "type": "https://tools.ietf.org/html/rfc2616#section-10",
                "title": "An error occurred",
                "violations": [{"propertyPath": path, "message": message}],
            },
        )

    def _fields(self, fields):
        if not isinstance(fields, list) or not all(
            isinstance(f, dict) and set(f) == {"slug", "value"} for f in fields
        ):
            return "fields must be a list of {slug, value}"
        unknown = [f["slug"] for f in fields if f["slug"] not in self.field_slugs]
        return f"unknown field slugs {unknown}" if unknown else None

    def create_contact(self, req):
        body = self.body(req)
        problem = _only(body, {"email", "locale", "fields"}, {"email"}) or self._fields(
            body.get("fields", [])
        )
        if problem:
            return self._violation("", problem)
        if not EMAIL.match(body["email"]):
            return self._violation("email", "This value is not a valid email address.")
        if any(c["email"] == body["email"] for c in self.contacts.values()):
            return self._violation("email", "This value is already used.")
        cid = next(self.ids)
        self.contacts[cid] = {
            "id": cid,
            "email": body["email"],
            "locale": body.get("locale"),
            "fields": {f["slug"]: f["value"] for f in body.get("fields", [])},
        }
        return Reply(201, self.contacts[cid])

    def find_contact(self, req):
        email = (req.query.get("email") or [""])[0]
        return Reply(
            200, {"items": [c for c in self.contacts.values() if c["email"] == email], "hasMore": False}
        )

    def update_contact(self, req, cid):
        if req.headers.get("content-type") != "application/merge-patch+json":
            return Reply(415, {"detail": "The content-type must be application/merge-patch+json"})
        contact = self.contacts.get(int(cid))
        if contact is None:
            return Reply(404, {"detail": "Not found"})
        body = self.body(req)
        problem = _only(body, {"fields", "locale"}) or self._fields(body.get("fields", []))
        if problem:
            return self._violation("", problem)
        contact["fields"].update({f["slug"]: f["value"] for f in body.get("fields", [])})
        return Reply(200, contact)

    def list_tags(self, req):
        limit = int((req.query.get("limit") or ["10"])[0])
        if not 10 <= limit <= 100:
            return self._violation("limit", "This value should be between 10 and 100.")
        after = int((req.query.get("startingAfter") or ["0"])[0])
        items = [{"id": i, "name": n} for i, n in sorted(self.tags.items()) if i > after]
        return Reply(200, {"items": items[:limit], "hasMore": len(items) > limit})

    def create_tag(self, req):
        body = self.body(req)
        problem = _only(body, {"name"}, {"name"})
        if problem:
            return self._violation("", problem)
        if body["name"] in self.tags.values():
            return self._violation("name", "This value is already used.")
        tid = next(self.ids)
        self.tags[tid] = body["name"]
        return Reply(201, {"id": tid, "name": body["name"]})

    def tag_contact(self, req, cid):
        body = self.body(req)
        if _only(body, {"tagId"}, {"tagId"}) or not isinstance(body["tagId"], int):
            return self._violation("tagId", "tagId must be the tag's numeric id")
        if int(cid) not in self.contacts or body["tagId"] not in self.tags:
            return Reply(404, {"detail": "Not found"})
        tags = self.contact_tags.setdefault(int(cid), [])
        if body["tagId"] not in tags:
            tags.append(body["tagId"])
        return Reply(204)

    def tags_of(self, email: str) -> list[str]:
        cid = next(c["id"] for c in self.contacts.values() if c["email"] == email)
        return [self.tags[t] for t in self.contact_tags.get(cid, [])]


class KitFake(Platform):
    """Kit v4: POST /subscribers upserts; unknown custom field keys are refused (422); tags by id."""

    routes = [
        ("POST", r"/v4/subscribers", "upsert"),
        ("GET", r"/v4/tags", "list_tags"),
        ("POST", r"/v4/tags", "create_tag"),
        ("POST", r"/v4/tags/(\d+)/subscribers", "tag_subscriber"),
        ("GET", r"/v4/custom_fields", "list_fields"),
        ("POST", r"/v4/custom_fields", "create_field"),
    ]

    def __init__(self, **kw):
        kw.setdefault("rate", RateLimit(120, 60.0))
        super().__init__(**kw)
        self.subscribers: dict[str, dict] = {}
        self.tags: dict[int, str] = {}
        self.tagged: dict[int, list[str]] = {}
        self.fields: dict[str, str] = {}  # key -> label

    @property
    def api(self) -> str:
        return self.url + "/v4"

    def authorised(self, req):
        return req.headers.get("x-kit-api-key") == self.key

    def throttle(self, wait):
        return Reply(
            429, {"errors": ["Too many requests. Retry later."]}, {"Retry-After": str(max(1, round(wait)))}
        )

    def upsert(self, req):
        body = self.body(req)
        problem = _only(body, {"email_address", "first_name", "state", "fields"}, {"email_address"})
        if problem or not EMAIL.match(str(body.get("email_address"))):
            return Reply(422, {"errors": [problem or "Email address is invalid"]})
        unknown = [k for k in body.get("fields", {}) if k not in self.fields]
        if unknown:
            return Reply(422, {"errors": [f"Custom field {unknown[0]!r} does not exist"]})
        sub = self.subscribers.get(body["email_address"])
        status = 200 if sub else 201
        if sub is None:
            sub = self.subscribers[body["email_address"]] = {"id": next(self.ids), "fields": {}}
        sub.update(
            {
                "email_address": body["email_address"],
                "first_name": body.get("first_name"),
                "state": body.get("state", "active"),
            }
        )
        sub["fields"].update(body.get("fields", {}))
        return Reply(status, {"subscriber": sub})

    def list_tags(self, req):
        return Reply(
            200,
            {
                "tags": [{"id": i, "name": n} for i, n in self.tags.items()],
                "pagination": {"has_next_page": False, "end_cursor": None},
            },
        )

    def create_tag(self, req):
        body = self.body(req)
        if _only(body, {"name"}, {"name"}):
            return Reply(422, {"errors": ["Name can't be blank"]})
        for i, n in self.tags.items():
            if n == body["name"]:
                return Reply(200, {"tag": {"id": i, "name": n}})
        tid = next(self.ids)
        self.tags[tid] = body["name"]
        return Reply(201, {"tag": {"id": tid, "name": body["name"]}})

    def tag_subscriber(self, req, tid):
        body = self.body(req)
        if _only(body, {"email_address"}, {"email_address"}):
            return Reply(422, {"errors": ["email_address is required"]})
        if int(tid) not in self.tags:
            return Reply(404, {"errors": ["Not Found"]})
        if body["email_address"] not in self.subscribers:
            return Reply(422, {"errors": ["Subscriber does not exist"]})
        tagged = self.tagged.setdefault(int(tid), [])
        if body["email_address"] in tagged:
            return Reply(200, {"subscriber": self.subscribers[body["email_address"]]})
        tagged.append(body["email_address"])
        return Reply(201, {"subscriber": self.subscribers[body["email_address"]]})

    def list_fields(self, req):
        return Reply(
            200,
            {
                "custom_fields": [
                    {"id": i, "key": k, "label": label, "name": k}
                    for i, (k, label) in enumerate(self.fields.items(), 1)
                ],
                "pagination": {"has_next_page": False, "end_cursor": None},
            },
        )

    def create_field(self, req):
        body = self.body(req)
        if _only(body, {"label"}, {"label"}):
            return Reply(422, {"errors": ["Label can't be blank"]})
        key = re.sub(r"[^a-z0-9]+", "_", body["label"].lower()).strip("_")
        self.fields[key] = body["label"]
        return Reply(
            201, {"custom_field": {"id": len(self.fields), "name": key, "key": key, "label": body["label"]}}
        )

    def tags_of(self, email: str) -> list[str]:
        return [self.tags[t] for t, emails in self.tagged.items() if email in emails]


class MailchimpFake(Platform):
    """Mailchimp 3.0: members addressed by MD5 of the lower-cased email; tags in the member body are ignored
    for existing members; tags need their own call; problem+json errors; 10 concurrent connections."""

    routes = [
        ("PUT", r"/3.0/lists/(\w+)/members/([0-9a-f]{32})", "upsert"),
        ("POST", r"/3.0/lists/(\w+)/members/([0-9a-f]{32})/tags", "tags"),
    ]
    merge_tags = {"FNAME", "LNAME"}

    max_connections = 10

    def __init__(self, list_id: str = "a1b2c3", **kw):
        super().__init__(key=kw.pop("key", "0123456789abcdef-us14"), **kw)
        self.list_id = list_id
        self.members: dict[str, dict] = {}
        self.compliance: set[str] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.flight_lock = threading.Lock()

    def handle(self, req: Request) -> Reply:
        # The limit is on simultaneous connections, not on a request rate.
        with self.flight_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            over = self.in_flight > self.max_connections
        try:
            if over:
                return self._problem(
                    429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections."
                )
            return super().handle(req)
        finally:
            with self.flight_lock:
                self.in_flight -= 1

    @property
    def api(self) -> str:
        return self.url + "/3.0"

    def authorised(self, req):
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        _user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return password == self.key

    def unauthorised(self):
        return self._problem(
            401,
            "API Key Invalid",
            "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        )

    def _problem(self, status, title, detail):
        return Reply(
            status,
            {
                "type": "https://mailchimp.com/developer/marketing/docs/errors/",
                "title": title,
                "status": status,
                "detail": detail,
                "instance": "fake",
            },
            content_type="application/problem+json",
        )

    def upsert(self, req, list_id, digest):
        if list_id != self.list_id:
            return self._problem(404, "Resource Not Found", "The requested resource could not be found.")
        body = self.body(req)
        problem = _only(
            body, {"email_address", "status_if_new", "status", "merge_fields", "tags"}, {"email_address"}
        )
        if problem:
            return self._problem(400, "Invalid Resource", problem)
        email = body["email_address"]
        if hashlib.md5(email.strip().lower().encode()).hexdigest() != digest:  # noqa: S324
            return self._problem(
                400, "Invalid Resource", "The subscriber hash does not match the email address."
            )
        if email.lower() in self.compliance:
            return self._problem(
                400,
                "Member In Compliance State",
                f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
                "review and cannot be subscribed.",
            )
        unknown = set(body.get("merge_fields", {})) - self.merge_tags
        if unknown:
            return self._problem(
                400, "Invalid Resource", f"Your merge fields were invalid: {sorted(unknown)}"
            )
        member = self.members.get(digest)
        if member is None:
            if body.get("status_if_new") not in ("subscribed", "pending", "unsubscribed", "cleaned"):
                return self._problem(400, "Invalid Resource", "status_if_new is required for a new member")
            member = self.members[digest] = {
                "id": digest,
                "email_address": email,
                "tags": [],
                "status": body["status_if_new"],
                "merge_fields": {},
            }
            member["tags"] = [t["name"] if isinstance(t, dict) else t for t in body.get("tags", [])]
        # For an existing member, tags in this body are silently ignored (as the real API does).
        member["merge_fields"].update(body.get("merge_fields", {}))
        return Reply(200, member)

    def tags(self, req, list_id, digest):
        member = self.members.get(digest) if list_id == self.list_id else None
        if member is None:
            return self._problem(404, "Resource Not Found", "The requested resource could not be found.")
        body = self.body(req)
        if _only(body, {"tags", "is_syncing"}, {"tags"}) or not all(
            isinstance(t, dict) and set(t) == {"name", "status"} for t in body["tags"]
        ):
            return self._problem(400, "Invalid Resource", "tags must be a list of {name, status}")
        for tag in body["tags"]:
            if tag["status"] == "active" and tag["name"] not in member["tags"]:
                member["tags"].append(tag["name"])
        return Reply(204)


class MailerLiteFake(Platform):
    """MailerLite: POST /subscribers upserts and adds groups by id; groups are the tags; 120 requests/min."""

    routes = [
        ("POST", r"/api/subscribers", "upsert"),
        ("GET", r"/api/groups", "list_groups"),
        ("POST", r"/api/groups", "create_group"),
    ]

    def __init__(self, **kw):
        kw.setdefault("rate", RateLimit(120, 60.0))
        super().__init__(**kw)
        self.subscribers: dict[str, dict] = {}
        self.groups: dict[str, str] = {}  # id -> name

    @property
    def api(self) -> str:
        return self.url + "/api"

    def authorised(self, req):
        return req.headers.get("authorization") == f"Bearer {self.key}"

    def unauthorised(self):
        return Reply(401, {"message": "Unauthenticated."})

    def upsert(self, req):
        body = self.body(req)
        problem = _only(
            body, {"email", "fields", "groups", "status", "subscribed_at", "ip_address"}, {"email"}
        )
        if problem:
            return Reply(422, {"message": problem, "errors": {"body": [problem]}})
        bad = [g for g in body.get("groups", []) if g not in self.groups]
        if bad:
            return Reply(
                422,
                {
                    "message": "The selected groups.0 is invalid.",
                    "errors": {"groups.0": ["The selected groups.0 is invalid."]},
                },
            )
        sub = self.subscribers.get(body["email"])
        status = 200 if sub else 201
        if sub is None:
            sub = self.subscribers[body["email"]] = {
                "id": str(next(self.ids)),
                "email": body["email"],
                "fields": {},
                "groups": [],
            }
        sub["fields"].update(body.get("fields", {}))
        sub["status"] = body.get("status", "active")
        sub["groups"] += [g for g in body.get("groups", []) if g not in sub["groups"]]
        return Reply(status, {"data": sub})

    def list_groups(self, req):
        limit = int((req.query.get("limit") or ["25"])[0])
        page = int((req.query.get("page") or ["1"])[0])
        items = [{"id": i, "name": n} for i, n in self.groups.items()]
        last = max(1, -(-len(items) // limit))
        return Reply(
            200,
            {
                "data": items[(page - 1) * limit : page * limit],
                "meta": {"current_page": page, "last_page": last, "per_page": limit},
            },
        )

    def create_group(self, req):
        body = self.body(req)
        if _only(body, {"name"}, {"name"}):
            return Reply(422, {"message": "The name field is required."})
        if len(self.groups) >= 1000:
            return Reply(422, {"message": "You have reached the maximum number of groups (1000)."})
        gid = str(next(self.ids))
        self.groups[gid] = body["name"]
        return Reply(201, {"data": {"id": gid, "name": body["name"]}})

    def groups_of(self, email: str) -> list[str]:
        return [self.groups[g] for g in self.subscribers[email]["groups"]]


class ActiveCampaignFake(Platform):
    """ActiveCampaign v3: contact/sync upserts; tags by id, no commas, names compare case-insensitively;
    5 requests per second."""

    routes = [
        ("POST", r"/api/3/contact/sync", "sync"),
        ("GET", r"/api/3/tags", "search_tags"),
        ("POST", r"/api/3/tags", "create_tag"),
        ("POST", r"/api/3/contactTags", "contact_tag"),
    ]

    def __init__(self, **kw):
        kw.setdefault("rate", RateLimit(5, 1.0))
        super().__init__(**kw)
        self.contacts: dict[str, dict] = {}
        self.tags: dict[str, str] = {}  # id -> name
        self.contact_tags: list[tuple[str, str]] = []
        self.field_ids = {"1", "2", "3"}

    @property
    def api(self) -> str:
        return self.url + "/api/3"

    def authorised(self, req):
        return req.headers.get("api-token") == self.key

    def unauthorised(self):
        return Reply(403, {"message": "No Result found for Subscriber with id 0"})

    def sync(self, req):
        body = self.body(req)
        contact = body.get("contact") if isinstance(body, dict) and set(body) == {"contact"} else None
        problem = (
            _only(contact, {"email", "firstName", "lastName", "phone", "fieldValues"}, {"email"})
            if contact is not None
            else 'the body must be {"contact": {...}}'
        )
        if problem:
            return Reply(422, {"errors": [{"title": problem, "code": "invalid"}]})
        bad = [f for f in contact.get("fieldValues", []) if str(f.get("field")) not in self.field_ids]
        if bad:
            return Reply(422, {"errors": [{"title": f"Field {bad[0].get('field')} does not exist"}]})
        existing = self.contacts.get(contact["email"].lower())
        status = 200 if existing else 201
        if existing is None:
            existing = self.contacts[contact["email"].lower()] = {"id": str(next(self.ids)), "fields": {}}
        existing.update({"email": contact["email"], "firstName": contact.get("firstName")})
        existing["fields"].update({str(f["field"]): f["value"] for f in contact.get("fieldValues", [])})
        return Reply(status, {"contact": existing})

    def search_tags(self, req):
        search = (req.query.get("search") or [""])[0].lower()
        return Reply(
            200,
            {
                "tags": [
                    {"id": i, "tag": n, "tagType": "contact"}
                    for i, n in self.tags.items()
                    if search in n.lower()
                ],
                "meta": {"total": str(len(self.tags))},
            },
        )

    def create_tag(self, req):
        body = self.body(req)
        tag = body.get("tag") if isinstance(body, dict) else None
        if (
            not isinstance(tag, dict)
            or not tag.get("tag")
            or tag.get("tagType") not in ("contact", "template")
        ):
            return Reply(422, {"errors": [{"title": "tag and tagType are required"}]})
        if "," in tag["tag"]:
            return Reply(422, {"errors": [{"title": "Tag names cannot contain commas"}]})
        if any(n.lower() == tag["tag"].lower() for n in self.tags.values()):
            return Reply(422, {"errors": [{"title": "Tag already exists", "code": "duplicate"}]})
        tid = str(next(self.ids))
        self.tags[tid] = tag["tag"]
        return Reply(201, {"tag": {"id": tid, "tag": tag["tag"], "tagType": tag["tagType"]}})

    def contact_tag(self, req):
        body = self.body(req)
        link = body.get("contactTag") if isinstance(body, dict) else None
        if not isinstance(link, dict) or set(link) != {"contact", "tag"}:
            return Reply(422, {"errors": [{"title": "contactTag needs contact and tag"}]})
        contact, tag = str(link["contact"]), str(link["tag"])
        if tag not in self.tags or contact not in {c["id"] for c in self.contacts.values()}:
            return Reply(404, {"message": "No Result found"})
        if (contact, tag) in self.contact_tags:
            return Reply(200, {"contactTag": {"contact": contact, "tag": tag}})
        self.contact_tags.append((contact, tag))
        return Reply(201, {"contactTag": {"contact": contact, "tag": tag}})

    def tags_of(self, email: str) -> list[str]:
        cid = self.contacts[email.lower()]["id"]
        return [self.tags[t] for c, t in self.contact_tags if c == cid]


class BrevoFake(Platform):
    """Brevo: POST /v3/contacts creates (201) or, with updateEnabled, updates (204); attributes must exist
    (a value of the wrong type is silently dropped); lists, not tags; 429 with x-sib-ratelimit-reset."""

    routes = [("POST", r"/v3/contacts", "upsert")]
    attribute_types = {
        "FIRSTNAME": str,
        "LASTNAME": str,
        "QUIZ_OUTCOME": str,
        "QUIZ_SCORE": (int, float),
        "QUIZ_TAGS": str,
    }

    def __init__(self, list_ids=(3, 7, 8), **kw):
        super().__init__(**kw)
        self.list_ids = set(list_ids)
        self.contacts: dict[str, dict] = {}

    @property
    def api(self) -> str:
        return self.url + "/v3"

    def authorised(self, req):
        return req.headers.get("api-key") == self.key

    def unauthorised(self):
        return Reply(401, {"code": "unauthorized", "message": "Key not found"})

    def throttle(self, wait):
        return Reply(
            429,
            {"code": "too_many_requests", "message": "Too many requests"},
            {
                "x-sib-ratelimit-limit": str(self.rate.limit),
                "x-sib-ratelimit-remaining": "0",
                "x-sib-ratelimit-reset": str(max(1, round(wait))),
            },
        )

    def upsert(self, req):
        body = self.body(req)
        problem = _only(
            body, {"email", "attributes", "listIds", "updateEnabled", "emailBlacklisted"}, {"email"}
        )
        if problem:
            return Reply(400, {"code": "invalid_parameter", "message": problem})
        unknown = [a for a in body.get("attributes", {}) if a not in self.attribute_types]
        if unknown:
            return Reply(
                400, {"code": "invalid_parameter", "message": f"Attribute {unknown[0]} does not exist"}
            )
        bad_lists = [i for i in body.get("listIds", []) if i not in self.list_ids]
        if bad_lists:
            return Reply(
                404, {"code": "document_not_found", "message": f"List ID {bad_lists[0]} does not exist"}
            )
        existing = self.contacts.get(body["email"].lower())
        if existing is not None and not body.get("updateEnabled"):
            return Reply(400, {"code": "duplicate_parameter", "message": "Contact already exist"})
        attrs = {
            k: v for k, v in body.get("attributes", {}).items() if isinstance(v, self.attribute_types[k])
        }
        if existing is None:
            self.contacts[body["email"].lower()] = {
                "id": next(self.ids),
                "email": body["email"],
                "attributes": attrs,
                "listIds": list(body.get("listIds", [])),
            }
            return Reply(201, {"id": self.contacts[body["email"].lower()]["id"]})
        existing["attributes"].update(attrs)
        existing["listIds"] += [i for i in body.get("listIds", []) if i not in existing["listIds"]]
        return Reply(204)
