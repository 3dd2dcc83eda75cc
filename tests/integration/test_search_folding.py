"""The Python and the SQL side fold text for the search the same way."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.features.employers import fold_for_search


@pytest.mark.parametrize(
    "text", ["Bäckerei", "STRASSE", "Straße", "Größenwahn", "Çelik Façade", "Ñandú", "Crème"]
)
def test_python_folding_matches_atlas_fold(app, text):
    with app.app_context():
        assert db.session.scalar(select(func.atlas_fold(text))) == fold_for_search(text)
