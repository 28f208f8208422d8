"""Mailchimp Marketing API 3.0: upsert the list member by the MD5 of the lower-cased address, then add tags
in a separate call (tags inside the member body are ignored for existing members)."""

from __future__ import annotations

import hashlib
import re

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
from quizapp.delivery.http import ConfigProblem

DATA_CENTER = re.compile(r"-([a-z]+[0-9]+)$")


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()  # noqa: S324 - Mailchimp's id scheme


class MailchimpSettings(Settings):
    api_key_env = secret_field()
    list_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{1,32}$"))
    # "pending" makes Mailchimp send its own confirmation email before the contact is subscribed.
    double_opt_in = fields.Boolean(load_default=False)
    base_url = base_url_field()


@registry.register
class Mailchimp(Adapter):
    type = "mailchimp"
    label = "Mailchimp"
    Settings = MailchimpSettings

    @property
    def base_url(self) -> str:
        if self.settings.get("base_url"):
            return self.settings["base_url"].rstrip("/")
        match = DATA_CENTER.search(self.secret("api_key_env"))
        if not match:
            raise ConfigProblem(
                f"the key in {self.settings['api_key_env']} does not end in its data center (like ...-us14)"
            )
        return f"https://{match.group(1)}.api.mailchimp.com/3.0"

    def check_config(self) -> None:
        self.base_url  # noqa: B018 - raises ConfigProblem for a key without its data center

    def deliver(self, message: Message, steps: Steps) -> None:
        data = message.data
        email, _display = split_email(data)
        member = f"{self.base_url}/lists/{self.settings['list_id']}/members/{subscriber_hash(email)}"
        auth = ("quizapp", self.secret("api_key_env"))
        if "member" not in steps:
            merge_fields = {"FNAME": data.get("first_name") or ""}
            merge_fields.update({k.upper(): v for k, v in (data.get("fields") or {}).items()})
            body = {
                "email_address": email,
                "merge_fields": merge_fields,
                "status_if_new": "pending" if self.settings["double_opt_in"] else "subscribed",
            }
            self.http.request("PUT", member, step="upsert member", json=body, auth=auth)
            steps.mark("member")
        tags = list(data.get("tags") or [])
        if tags and "tags" not in steps:
            self.http.request(
                "POST",
                f"{member}/tags",
                step="add tags",
                auth=auth,
                json={"tags": [{"name": t, "status": "active"} for t in tags]},
            )
            steps.mark("tags")
