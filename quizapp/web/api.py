"""A small JSON API for the creator's other tools, behind a bearer token (`QUIZAPP_API_TOKEN`).

`POST /api/customers` {"email": "...", "revenue": "97.00"}: a sale by a known lead, e.g. from a checkout
platform's webhook or a no-code automation. It turns the lead into a customer and adds the revenue."""

from __future__ import annotations

import hmac
from decimal import Decimal, InvalidOperation

from flask import Blueprint, current_app, jsonify, request

from quizapp.services.economics import UnknownLead, mark_customer
from quizapp.services.leads import InvalidEmail
from quizapp.store import get_session

bp = Blueprint("api", __name__, url_prefix="/api")


def _problem(status: int, detail: str):
    return jsonify({"error": detail}), status


@bp.before_request
def _authenticate():
    token = current_app.config.get("API_TOKEN")
    if not token:
        return _problem(404, "the API is off: set QUIZAPP_API_TOKEN to turn it on")
    given = request.headers.get("Authorization", "")
    if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), str(token).encode())):
        return _problem(401, "send the API token as 'Authorization: Bearer <token>'")
    return None


@bp.post("/customers")
def customers():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("email"), str):
        return _problem(400, "send JSON with 'email' and 'revenue'")
    try:
        revenue = Decimal(str(body.get("revenue", "0")))
    except InvalidOperation:
        return _problem(400, "'revenue' must be a number such as \"97.00\"")
    session = get_session()
    try:
        lead = mark_customer(session, body["email"], revenue)
    except InvalidEmail as err:
        return _problem(400, str(err))
    except ValueError as err:
        return _problem(400, str(err))
    except UnknownLead as err:
        return _problem(404, str(err))
    session.commit()
    return jsonify({"email": lead.email, "customer_since": lead.customer_at.isoformat(),
                    "revenue": str(lead.revenue)})
