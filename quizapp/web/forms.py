"""Visitor forms. Anti-forgery for visitors is the signed response token in the URL, not a cookie,
so these forms carry no CSRF field (the admin side uses Flask-WTF's CSRF with its session)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from quizapp.definitions.question_types import plain_text
from quizapp.services.leads import InvalidEmail, normalise_email


class VisitorForm(FlaskForm):
    class Meta:
        csrf = False


def _email(form, field):
    try:
        normalise_email(field.data or "")
    except InvalidEmail as err:
        raise ValidationError(str(err)) from None


class GateForm(VisitorForm):
    first_name = StringField("First name", validators=[DataRequired("Please enter your first name."),
                                                       Length(max=100, message="Please keep it under 100 characters.")],
                             render_kw={"autocomplete": "given-name"})
    email = EmailField("Email", validators=[DataRequired("Please enter your email address."),
                                            Length(max=320), _email],
                       render_kw={"autocomplete": "email", "inputmode": "email"})
    consent = BooleanField()

    def __init__(self, consent_required: bool, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._consent_required = consent_required

    def validate_first_name(self, field):
        if not plain_text(field.data or ""):
            raise ValidationError("Please enter your first name.")

    def validate_consent(self, field):
        if self._consent_required and not field.data:
            raise ValidationError("Please tick the box to continue.")
