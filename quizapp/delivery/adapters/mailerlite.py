"""MailerLite: groups play the role of tags. Make sure a group exists for each tag (cached by id), then
upsert the subscriber with those groups in one call (groups are added, never removed)."""

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


class MailerLiteSettings(Settings):
    api_key_env = secret_field()
    base_url = base_url_field()
    groups = fields.List(fields.String(validate=validate.Regexp(r"^[0-9]{1,30}$")), load_default=list)
    tags_as_groups = fields.Boolean(load_default=True)
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "unconfirmed"]))


@registry.register
class MailerLite(Adapter):
    type = "mailerlite"
    label = "MailerLite"
    Settings = MailerLiteSettings
    default_base_url = "https://connect.mailerlite.com/api"
    default_rate_limit = (120, 60.0)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('api_key_env')}", "Accept": "application/json"}

    def deliver(self, message: Message, steps: Steps) -> None:
        data = message.data
        email, _display = split_email(data)
        group_ids = list(self.settings["groups"])
        if self.settings["tags_as_groups"]:
            tags = list(data.get("tags") or [])
            ids = self.ensure_ids("groups", tags, list_existing=self._list_groups, create=self._create_group)
            group_ids += [str(ids[t]) for t in tags if str(ids[t]) not in group_ids]
        body = {
            "email": email,
            "fields": {"name": data.get("first_name") or "", **(data.get("fields") or {})},
            "groups": group_ids,
            "status": self.settings["status"],
        }
        self.http.request(
            "POST",
            f"{self.base_url}/subscribers",
            step="upsert subscriber",
            json=body,
            headers=self._headers(),
        )
        steps.mark("subscriber")

    def _list_groups(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        page = 1
        while True:
            r = self.http.request(
                "GET",
                f"{self.base_url}/groups",
                step="list groups",
                params={"limit": 100, "page": page},
                headers=self._headers(),
            ).json()
            for group in r.get("data") or []:
                out.setdefault(group["name"], group["id"])
            meta = r.get("meta") or {}
            if page >= int(meta.get("last_page") or 1):
                return out
            page += 1

    def _create_group(self, name: str) -> Any:
        r = self.http.request(
            "POST",
            f"{self.base_url}/groups",
            step=f"create group {name}",
            json={"name": name},
            headers=self._headers(),
        )
        return r.json()["data"]["id"]
