"""Cells for spreadsheet files: texts that would be formulas get a leading quote, nothing else
changes."""

import numpy as np
import pandas as pd
import pytest

from app.services.spreadsheets import safe_cell, safe_frame


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+49 2361 1", "-5", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")', "＝1+1"],
)
def test_texts_that_start_a_formula_get_a_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Bäckerei = gut", "", " =1", "45657", "'=1", None, -5, -7.25, True]
)
def test_everything_else_stays_as_it_is(value):
    assert safe_cell(value) is value


def test_a_frame_keeps_its_numbers_and_gets_safe_texts():
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "Malerei", None],
            "employees": pd.array([-3, 4, None], dtype="Int64"),
            "lon": [-7.5, 7.1, 6.9],
            "open": [True, False, True],
        }
    )
    safe = safe_frame(frame)
    assert list(safe["name"][:2]) == ["'=1+1", "Malerei"]
    assert pd.isna(safe.loc[2, "name"])
    for name in ("employees", "lon", "open"):
        pd.testing.assert_series_equal(safe[name], frame[name])
    assert frame.loc[0, "name"] == "=1+1"  # the original is left alone


def test_xlsx_cells_are_plain_values_without_characters_xlsx_cannot_hold():
    from app.services.exports import _xlsx_cell

    assert _xlsx_cell("\x0b=1+1") == "'=1+1"  # the control character would hide the formula
    assert _xlsx_cell(np.int64(3)) == 3 and type(_xlsx_cell(np.int64(3))) is int
    assert _xlsx_cell(np.bool_(True)) is True
    assert _xlsx_cell(pd.NA) is None and _xlsx_cell(float("nan")) is None
