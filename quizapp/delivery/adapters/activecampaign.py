"""ActiveCampaign v3: sync (upsert) the contact, make sure each tag exists (names compare without regard
to case; commas are not allowed), attach each tag. 5 requests per second per account."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from quizapp.delivery.adapters.base import URL, Adapter, Message, Settings, Steps, registry, split_email
from quizapp.delivery.config import secret_field
from quizapp.delivery.http import Permanent


def ac_tag(name: str) -> str:
    return " ".join(name.replace(",", " ").split())


class ActiveCampaignSettings(Settings):
    api_key_env = secret_field()
    # Account-specific, like https://youraccount.api-us1.com/api/3
    base_url = fields.String(required=True, validate=URL)


@registry.register
class ActiveCampaign(Adapter):
    type = "activecampaign"
    label = "ActiveCampaign"
    Settings = ActiveCampaignSettings
    default_rate_limit = (5, 1.0)

    def _headers(self) -> dict[str, str]:
        return {"Api-Token": self.secret("api_key_env"), "Accept": "application/json"}

    def deliver(self, message: Message, steps: Steps) -> None:
        data = message.data
        email, _display = split_email(data)
        if "contact" not in steps:
            contact = {"email": email, "firstName": data.get("first_name") or ""}
            field_values = [{"field": str(k), "value": str(v)} for k, v in (data.get("fields") or {}).items()]
            if field_values:
                contact["fieldValues"] = field_values
            r = self.http.request(
                "POST",
                f"{self.base_url}/contact/sync",
                step="sync contact",
                json={"contact": contact},
                headers=self._headers(),
            )
            steps.mark("contact", r.json()["contact"]["id"])
        contact_id = steps.get("contact")
        tags = list(dict.fromkeys(ac_tag(t) for t in data.get("tags") or [] if ac_tag(t)))
        ids = self.ensure_ids(
            "tags", tags, list_existing=lambda: self._find_tags(tags), create=self._create_tag
        )
        for name in tags:
            if f"tag:{name}" in steps:
                continue
            self.http.request(
                "POST",
                f"{self.base_url}/contactTags",
                step=f"tag {name}",
                headers=self._headers(),
                json={"contactTag": {"contact": contact_id, "tag": ids[name]}},
            )
            steps.mark(f"tag:{name}")

    def _find_tags(self, names: list[str]) -> dict[str, Any]:
        # An account may hold thousands of tags: search for the ones needed instead of listing them all.
        out: dict[str, Any] = {}
        for name in names:
            if self.cache.get("tags", name.lower()) is None:
                out.update(self._search(name))
        return out

    def _search(self, name: str) -> dict[str, Any]:
        found = self.http.request(
            "GET",
            f"{self.base_url}/tags",
            step=f"find tag {name}",
            params={"search": name},
            headers=self._headers(),
        ).json()
        return {t["tag"]: t["id"] for t in found.get("tags") or [] if t["tag"].lower() == name.lower()}

    def _create_tag(self, name: str) -> Any:
        r = self.http.request(
            "POST",
            f"{self.base_url}/tags",
            step=f"create tag {name}",
            headers=self._headers(),
            json={"tag": {"tag": name, "tagType": "contact", "description": ""}},
            expect=(422,),
        )
        if r.status_code != 422:
            return r.json()["tag"]["id"]
        # Refused: usually because another worker created the same tag a moment ago.
        found = {k.lower(): v for k, v in self._search(name).items()}
        if name.lower() in found:
            return found[name.lower()]
        raise Permanent(f"422 from POST {self.base_url}/tags: {r.text[:300]}", 422, r.text)
