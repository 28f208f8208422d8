"""Brevo: one call creates or updates the contact (``updateEnabled``) with its attributes (UPPERCASE, and
they must exist in Brevo) and its lists. Brevo has no tags: tags map to list ids."""

from __future__ import annotations

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


class BrevoSettings(Settings):
    api_key_env = secret_field()
    base_url = base_url_field()
    list_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list)
    # Tag -> list id: a lead with that tag joins that list.
    lists = fields.Dict(
        keys=fields.String(), values=fields.Integer(validate=validate.Range(min=1)), load_default=dict
    )
    # Optional text attribute that receives the tags, comma-separated (it must exist in Brevo).
    tags_attribute = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z0-9_]{1,50}$"))


@registry.register
class Brevo(Adapter):
    type = "brevo"
    label = "Brevo"
    Settings = BrevoSettings
    default_base_url = "https://api.brevo.com/v3"
    reset_headers = ("x-sib-ratelimit-reset",)

    def deliver(self, message: Message, steps: Steps) -> None:
        data = message.data
        email, _display = split_email(data)
        tags = list(data.get("tags") or [])
        by_tag = {k.lower(): v for k, v in self.settings["lists"].items()}
        list_ids = list(self.settings["list_ids"])
        list_ids += [
            by_tag[t.lower()] for t in tags if t.lower() in by_tag and by_tag[t.lower()] not in list_ids
        ]
        attributes = {"FIRSTNAME": data.get("first_name") or ""}
        attributes.update({k.upper(): v for k, v in (data.get("fields") or {}).items()})
        if self.settings.get("tags_attribute"):
            attributes[self.settings["tags_attribute"]] = ", ".join(tags)
        body = {"email": email, "attributes": attributes, "listIds": list_ids, "updateEnabled": True}
        self.http.request(
            "POST",
            f"{self.base_url}/contacts",
            step="upsert contact",
            json=body,
            headers={"api-key": self.secret("api_key_env"), "Accept": "application/json"},
        )
        steps.mark("contact")
