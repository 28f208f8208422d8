"""systeme.io: create the contact (not an upsert: an existing email fails, so look it up and update it),
make sure each tag exists (by numeric id), then attach each tag. Attaching a tag is what starts the
creator's automations there."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from quizapp.delivery.adapters.base import (
    Adapter,
    Message,
    Settings,
    Steps,
    base_url_field,
    registry,
    split_email,
)
from quizapp.delivery.config import secret_field
from quizapp.delivery.http import Permanent


class SystemeioSettings(Settings):
    api_key_env = secret_field()
    base_url = base_url_field()
    locale = fields.String(load_default="en", validate=validate.Regexp(r"^[a-z]{2}$"))


@registry.register
class Systemeio(Adapter):
    type = "systemeio"
    label = "systeme.io"
    Settings = SystemeioSettings
    default_base_url = "https://api.systeme.io/api"
    reset_headers = ("X-RateLimit-Refill",)

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.secret("api_key_env"), "Accept": "application/json", **extra}

    def deliver(self, message: Message, steps: Steps) -> None:
        data = message.data
        email, _display = split_email(data)
        contact_fields = [{"slug": "first_name", "value": data.get("first_name") or ""}]
        contact_fields += [{"slug": k, "value": str(v)} for k, v in (data.get("fields") or {}).items()]
        if "contact" not in steps:
            steps.mark("contact", self._upsert_contact(email, contact_fields))
        contact_id = steps.get("contact")
        tags = list(data.get("tags") or [])
        ids = self.ensure_ids("tags", tags, list_existing=self._list_tags, create=self._create_tag)
        for name in tags:
            if f"tag:{name}" in steps:
                continue
            r = self.http.request(
                "POST",
                f"{self.base_url}/contacts/{contact_id}/tags",
                step=f"tag {name}",
                json={"tagId": ids[name]},
                headers=self._headers(),
                expect=(404,),
            )
            if r.status_code == 404:  # the tag was deleted in systeme.io since we cached its id
                self.cache.forget("tags", name.lower())
                tag_id = self.ensure_ids(
                    "tags", [name], list_existing=self._list_tags, create=self._create_tag
                )[name]
                self.http.request(
                    "POST",
                    f"{self.base_url}/contacts/{contact_id}/tags",
                    step=f"tag {name}",
                    json={"tagId": tag_id},
                    headers=self._headers(),
                )
            steps.mark(f"tag:{name}")

    def _upsert_contact(self, email: str, contact_fields: list[dict[str, Any]]) -> Any:
        body = {"email": email, "locale": self.settings["locale"], "fields": contact_fields}
        r = self.http.request(
            "POST",
            f"{self.base_url}/contacts",
            step="create contact",
            json=body,
            headers=self._headers(),
            expect=(422,),
        )
        if r.status_code != 422:
            return r.json()["id"]
        # Creating is not an upsert: an existing email is refused. Find it and update it instead.
        found = self.http.request(
            "GET",
            f"{self.base_url}/contacts",
            step="find contact",
            params={"email": email},
            headers=self._headers(),
        ).json()
        items = found.get("items") or []
        if not items:
            raise Permanent(f"422 from POST {self.base_url}/contacts: {r.text[:300]}", 422, r.text)
        contact_id = items[0]["id"]
        self.http.request(
            "PATCH",
            f"{self.base_url}/contacts/{contact_id}",
            step="update contact",
            json={"fields": contact_fields},
            headers=self._headers(**{"Content-Type": "application/merge-patch+json"}),
        )
        return contact_id

    def _list_tags(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        after = None
        while True:
            params: dict[str, Any] = {"limit": 100}
            if after is not None:
                params["startingAfter"] = after
            page = self.http.request(
                "GET", f"{self.base_url}/tags", step="list tags", params=params, headers=self._headers()
            ).json()
            items = page.get("items") or []
            for tag in items:
                out.setdefault(tag["name"], tag["id"])
            if not page.get("hasMore") or not items:
                return out
            after = items[-1]["id"]

    def _create_tag(self, name: str) -> Any:
        r = self.http.request(
            "POST",
            f"{self.base_url}/tags",
            step=f"create tag {name}",
            json={"name": name},
            headers=self._headers(),
            expect=(422,),
        )
        if r.status_code != 422:
            return r.json()["id"]
        # Another worker created it a moment ago.
        for existing, tag_id in self._list_tags().items():
            if existing.lower() == name.lower():
                return tag_id
        raise Permanent(f"422 from POST {self.base_url}/tags: {r.text[:300]}", 422, r.text)
