"""The Python and the SQL side fold text for the search the same way."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.features.employers import fold_for_search


@pytest.mark.parametrize(
    "text",
    [
        *("Bäckerei", "STRASSE", "Straße", "Größenwahn", "Çelik Façade", "Ñandú", "Crème"),
        *("Baeckerei", "MUELLER Müller", "Poesie", "İnci Yılmaz Şahin", "Łódź Szymański"),
        *("Đorđević Čačak", "Ștefan Țuțea", "Kőszeg", "Øre"),
    ],
)
def test_python_folding_matches_atlas_fold(app, text):
    with app.app_context():
        assert db.session.scalar(select(func.atlas_fold(text))) == fold_for_search(text)


@pytest.mark.parametrize(
    ("spellings", "folded"),
    [
        (("Bäckerei", "Baeckerei", "Backerei", "BÄCKEREI"), "backerei"),
        (("Straße", "Strasse", "STRASSE"), "strasse"),
        (("Müller", "Mueller", "Muller"), "muller"),
        (("Yılmaz", "Yilmaz"), "yilmaz"),
        (("Wiśniewski", "Wisniewski"), "wisniewski"),
    ],
)
def test_spellings_of_one_word_fold_alike(spellings, folded):
    assert {fold_for_search(spelling) for spelling in spellings} == {folded}
