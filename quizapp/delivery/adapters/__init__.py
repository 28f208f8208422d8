"""One adapter class per destination type, behind a registry. Adding a platform means one module here, one
fake in the tests and one test file."""

from __future__ import annotations

from quizapp.delivery.adapters import (  # noqa: F401 - importing registers each type
    activecampaign,
    brevo,
    kit,
    mailchimp,
    mailerlite,
    systemeio,
    webhook,
)
from quizapp.delivery.adapters.base import Adapter, Message, Steps, registry

__all__ = ["Adapter", "Message", "Steps", "registry"]
