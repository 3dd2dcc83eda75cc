"""name search: umlaut spellings and trigram similarity

Revision ID: c3f1a9d2e4b6
Revises: 9d5e1b3c7a20
Create Date: 2026-11-30 01:00:00

``atlas_fold`` also folds the spellings ae, oe, ue (so "Baeckerei" and "Bäckerei" fold alike,
to "backerei") and the letters of Turkish, Polish and other names of the region ("Yılmaz" ->
"yilmaz"). The full-text column ``companies.search_vector`` is generated from it, so it is
dropped and added again (PostgreSQL recomputes it for every row). ``pg_trgm`` gives the name
search its typo-tolerant fallback: a GIN trigram index on the folded names of published
employers (``app.features.employers.text_condition``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "c3f1a9d2e4b6"
down_revision = "9d5e1b3c7a20"
branch_labels = None
depends_on = None

# The folding of migration 0002 (restored by the downgrade).
OLD_FOLD = """
CREATE OR REPLACE FUNCTION atlas_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT translate(replace(lower(value), 'ß', 'ss'),
                   'äöüàáâãåèéêëìíîïòóôõùúûçñýÿ',
                   'aouaaaaaeeeeiiiioooouuucnyy')
$$
"""

# Case, ß, umlauts and accents as before; also the letters of Turkish, Polish, Czech, Croatian,
# Romanian and Hungarian names; the combining dot above (chr(775)) that lower('İ') leaves is
# dropped (translate deletes characters without a counterpart); then the spellings ae, oe, ue
# become a, o, u. The Python twin is app.features.employers.fold_for_search;
# tests/integration/test_search_folding.py compares them.
NEW_FOLD = """
CREATE OR REPLACE FUNCTION atlas_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT replace(replace(replace(
           translate(replace(lower(value), 'ß', 'ss'),
                     'äöüàáâãåèéêëìíîïòóôõùúûçñýÿışğąćęłńśźżčďěňřšťůžđășțţőűø' || chr(775),
                     'aouaaaaaeeeeiiiioooouuucnyyisgacelnszzcdenrstuzdasttouo'),
           'ae', 'a'), 'oe', 'o'), 'ue', 'u')
$$
"""

SEARCH_VECTOR = (
    "to_tsvector('german'::regconfig, "
    "atlas_fold(coalesce(name, '') || ' ' || coalesce(description, '')))"
)

NAME_TRIGRAM_INDEX = (
    "CREATE INDEX ix_companies_name_trigram ON companies "
    "USING gin (atlas_fold(name) gin_trgm_ops) WHERE status = 'published'"
)


def _rebuild_search_vector(fold: str) -> None:
    """Replace ``atlas_fold`` and compute the generated full-text column again."""
    op.drop_index("ix_companies_search_vector", table_name="companies", postgresql_using="gin")
    op.drop_column("companies", "search_vector")
    op.execute(fold)
    op.add_column(
        "companies",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR, persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_companies_search_vector", "companies", ["search_vector"], postgresql_using="gin"
    )


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _rebuild_search_vector(NEW_FOLD)
    op.execute(NAME_TRIGRAM_INDEX)


def downgrade():
    op.execute("DROP INDEX ix_companies_name_trigram")
    _rebuild_search_vector(OLD_FOLD)
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
