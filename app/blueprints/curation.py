"""The agency's curation workspace; its pages come with the curation issue."""

from flask import Blueprint

bp = Blueprint("curation", __name__)
