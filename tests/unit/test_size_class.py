import pytest

from app.models import size_class_for


@pytest.mark.parametrize(
    ("employees", "expected"),
    [
        (1, "micro"),
        (9, "micro"),
        (10, "small"),
        (49, "small"),
        (50, "medium"),
        (249, "medium"),
        (250, "large"),
        (10_000, "large"),
        (None, None),
    ],
)
def test_eu_size_class_boundaries(employees, expected):
    assert size_class_for(employees) == expected
