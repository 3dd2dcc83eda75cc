"""The questionnaire (Leitfragebogen) for businesses; its pages come with their own issue."""

from flask import Blueprint

bp = Blueprint("questionnaire", __name__)
