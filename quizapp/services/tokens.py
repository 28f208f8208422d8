"""Signed response tokens: the visitor's only handle on their progress (no cookies)."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenError(Exception):
    def __init__(self, reason: str):
        self.reason = reason  # "expired" or "invalid"
        super().__init__(reason)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="quizapp.response")


def make_token(secret: str, public_id: str) -> str:
    return _serializer(secret).dumps(public_id)


def read_token(secret: str, token: str, max_age: int) -> str:
    try:
        value = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("invalid") from None
    if not isinstance(value, str):
        raise TokenError("invalid")
    return value
