"""Kit (API v4): make sure the custom fields exist, upsert the subscriber, make sure each tag exists, tag the
subscriber by email. 120 requests per rolling minute per key, spaced out across all workers."""

from __future__ import annotations

from typing import Any

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


class KitSettings(Settings):
    api_key_env = secret_field()
    base_url = base_url_field()


@registry.register
class Kit(Adapter):
    type = "kit"
    label = "Kit (API v4)"
    Settings = KitSettings
    default_base_url = "https://api.kit.com/v4"
    default_rate_limit = (120, 60.0)

    def _headers(self) -> dict[str, str]:
        return {"X-Kit-Api-Key": self.secret("api_key_env"), "Accept": "application/json"}

    def deliver(self, message: Message, steps: Steps) -> None:
        data = message.data
        email, _display = split_email(data)
        wanted = dict(data.get("fields") or {})
        if "subscriber" not in steps:
            keys = (
                self.ensure_ids(
                    "fields", list(wanted), list_existing=self._list_fields, create=self._create_field
                )
                if wanted
                else {}
            )
            body: dict[str, Any] = {
                "email_address": email,
                "first_name": data.get("first_name") or "",
                "state": "active",
            }
            if wanted:
                body["fields"] = {keys[name]: str(value) for name, value in wanted.items()}
            r = self.http.request(
                "POST",
                f"{self.base_url}/subscribers",
                step="upsert subscriber",
                json=body,
                headers=self._headers(),
            )
            steps.mark("subscriber", r.json()["subscriber"]["id"])
        tags = list(data.get("tags") or [])
        ids = self.ensure_ids("tags", tags, list_existing=self._list_tags, create=self._create_tag)
        for name in tags:
            if f"tag:{name}" in steps:
                continue
            self.http.request(
                "POST",
                f"{self.base_url}/tags/{ids[name]}/subscribers",
                step=f"tag {name}",
                json={"email_address": email},
                headers=self._headers(),
            )
            steps.mark(f"tag:{name}")

    def _pages(self, path: str, key: str, step: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = None
        while True:
            params: dict[str, Any] = {"per_page": 1000}
            if after:
                params["after"] = after
            page = self.http.request(
                "GET", f"{self.base_url}{path}", step=step, params=params, headers=self._headers()
            ).json()
            items += page.get(key) or []
            pagination = page.get("pagination") or {}
            if not pagination.get("has_next_page"):
                return items
            after = pagination.get("end_cursor")

    def _list_tags(self) -> dict[str, Any]:
        return {t["name"]: t["id"] for t in self._pages("/tags", "tags", "list tags")}

    def _create_tag(self, name: str) -> Any:
        r = self.http.request(
            "POST",
            f"{self.base_url}/tags",
            step=f"create tag {name}",
            json={"name": name},
            headers=self._headers(),
        )
        return r.json()["tag"]["id"]

    # Custom fields are addressed by key; the cache maps the name in the mapping to Kit's key.
    def _list_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self._pages("/custom_fields", "custom_fields", "list custom fields"):
            out[f["key"]] = f["key"]
            out.setdefault(f["label"], f["key"])
        return out

    def _create_field(self, name: str) -> Any:
        r = self.http.request(
            "POST",
            f"{self.base_url}/custom_fields",
            step=f"create custom field {name}",
            json={"label": name},
            headers=self._headers(),
        )
        return r.json()["custom_field"]["key"]
