"""full-text search

Revision ID: fb180d6559fc
Revises: ad25e5188b25
Create Date: 2026-11-21 11:43:36.246979

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers the geospatial ops)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "fb180d6559fc"
down_revision = "ad25e5188b25"
branch_labels = None
depends_on = None


# Folds case, umlauts, ß and common accents, so that "Strasse" finds "Straße" and "Backerei"
# finds "Bäckerei". IMMUTABLE, so a generated column may use it. The Python side of the same
# folding is app.services.employers.fold_for_search.
ATLAS_FOLD = """
CREATE OR REPLACE FUNCTION atlas_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT translate(replace(lower(value), 'ß', 'ss'),
                   'äöüàáâãåèéêëìíîïòóôõùúûçñýÿ',
                   'aouaaaaaeeeeiiiioooouuucnyy')
$$
"""


def upgrade():
    op.execute(ATLAS_FOLD)
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "search_vector",
                postgresql.TSVECTOR(),
                sa.Computed(
                    "to_tsvector('german'::regconfig, atlas_fold(coalesce(name, '') || ' ' || coalesce(description, '')))",
                    persisted=True,
                ),
                nullable=False,
            )
        )
        batch_op.create_index(
            "ix_companies_search_vector", ["search_vector"], unique=False, postgresql_using="gin"
        )


def downgrade():
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index("ix_companies_search_vector", postgresql_using="gin")
        batch_op.drop_column("search_vector")
    op.execute("DROP FUNCTION atlas_fold(text)")
