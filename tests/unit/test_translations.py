"""Every German text of the interface has an English translation, and the catalogue is current."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT

CATALOGUE = PROJECT_ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PYBABEL = Path(sys.executable).parent / "pybabel"


def load(path):
    with open(path, "rb") as file:
        return read_po(file)


def first_id(message):
    return message.id if isinstance(message.id, str) else message.id[0]


def test_every_message_is_translated_to_english():
    # pybabel compile silently skips a catalogue marked fuzzy (e.g. one that lost its header).
    assert not load(CATALOGUE).fuzzy
    untranslated = [
        message.id
        for message in load(CATALOGUE)
        if message.id
        and (
            not message.string
            or (isinstance(message.string, tuple) and not all(message.string))
            or message.fuzzy
        )
    ]
    assert untranslated == []


def test_catalogue_covers_every_text_in_the_code_and_templates(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603  (our own pybabel, fixed arguments)
        [
            PYBABEL,
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            template,
            "--no-location",
            "--omit-header",
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )
    extracted = {first_id(m) for m in load(template)} - {""}
    translated = {first_id(m) for m in load(CATALOGUE)}
    assert extracted <= translated, "run `make i18n` and translate the new texts"
