"""The visitor flow: landing, one question per screen, the gate, the result."""

from flask import Blueprint

bp = Blueprint("public", __name__)
