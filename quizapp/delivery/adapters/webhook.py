"""Signed webhook (Standard Webhooks v1): Zapier, Make, n8n or the creator's own endpoint.

The body is the stored payload, byte for byte; ``webhook-id`` is the delivery's message id (the same on
every retry, so receivers can dedupe); ``webhook-timestamp`` is this attempt's time; ``webhook-signature``
is ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, once per secret during a rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time

from marshmallow import fields, validate

from quizapp.delivery.adapters.base import URL, Adapter, Message, Settings, Steps, registry
from quizapp.delivery.config import ENV_NAME, secret_field
from quizapp.delivery.http import ConfigProblem

HEADER_NAME = validate.Regexp(r"^[A-Za-z0-9-]{1,64}$", error="a header name (letters, digits and '-')")
RESERVED = {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host"}


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret (24 to 64 bytes, as the spec asks)."""
    text = secret.strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("the secret is not base64 after its whsec_ prefix") from err
    if not 24 <= len(key) <= 64:
        raise ValueError(
            f"the secret holds {len(key)} bytes; use 24 to 64 random bytes "
            "(`quizapp deliveries new-secret` makes one)"
        )
    return key


def sign(keys: list[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() for key in keys
    )


class WebhookSettings(Settings):
    url = fields.String(required=True, validate=URL)
    secret_env = secret_field()
    # During a rotation the old secret signs too, so receivers that still hold it keep verifying.
    previous_secret_env = secret_field(required=False)
    headers = fields.Dict(keys=fields.String(validate=HEADER_NAME), values=fields.String(), load_default=dict)
    # Header name -> environment variable holding its value (a token for an n8n or Make header auth).
    secret_headers = fields.Dict(
        keys=fields.String(validate=HEADER_NAME),
        values=fields.String(validate=ENV_NAME),
        load_default=dict,
        metadata={"secret": True},
    )


@registry.register
class Webhook(Adapter):
    type = "webhook"
    label = "Signed webhook (Standard Webhooks)"
    Settings = WebhookSettings

    def keys(self) -> list[bytes]:
        keys = []
        for setting in ("secret_env", "previous_secret_env"):
            if setting == "previous_secret_env" and not self.settings.get(setting):
                continue
            try:
                keys.append(decode_secret(self.secret(setting)))
            except ValueError as err:
                raise ConfigProblem(f"{self.settings[setting]}: {err}") from err
        return keys

    def headers(self, message: Message) -> dict[str, str]:
        headers = {k: v for k, v in self.settings.get("headers", {}).items() if k.lower() not in RESERVED}
        for header, env in self.settings.get("secret_headers", {}).items():
            if header.lower() not in RESERVED:
                headers[header] = self._env(env, header)
        timestamp = int(time.time())
        headers.update(
            {
                "Content-Type": "application/json",
                "webhook-id": message.message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self.keys(), message.message_id, timestamp, message.payload),
            }
        )
        return headers

    def _env(self, env: str, header: str) -> str:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigProblem(
                f"the environment variable {env} (header {header!r} of destination "
                f"{self.destination.name!r}) is not set"
            )
        return value

    def check_config(self) -> None:
        self.keys()
        for header, env in self.settings.get("secret_headers", {}).items():
            self._env(env, header)

    def deliver(self, message: Message, steps: Steps) -> None:
        self.http.request(
            "POST", self.settings["url"], step="post", data=message.payload, headers=self.headers(message)
        )
        steps.mark("post")
