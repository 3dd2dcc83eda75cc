"""map cache: map answers shared by every app process, invalidated by every change

Revision ID: f6c4d0a8b3e5
Revises: e5b3c9f7a2d4
Create Date: 2026-11-30 05:00:00

``map_cache`` (unlogged: a cache, lost on a crash) keeps map answers of popular views
(``app/features/map_cache.py``) under the ``map_generation`` they were computed in. Every
transaction that changes an employer, its classifications, a layer feature or a municipality
raises the generation once, when it commits (a deferred constraint trigger; the row lock is
taken only at commit, so writers do not wait on each other for longer than a commit). An
answer is served only while its generation is the current one, so it never predates a
publish.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f6c4d0a8b3e5"
down_revision = "e5b3c9f7a2d4"
branch_labels = None
depends_on = None

#: Tables whose changes can change a map answer.
WATCHED = (
    "companies",
    "company_sectors",
    "company_occupations",
    "company_family_criteria",
    "company_apprenticeships",
    "layer_features",
    "municipalities",
)

UPGRADE = """
CREATE TABLE map_generation (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    generation bigint NOT NULL
);
INSERT INTO map_generation VALUES (true, 1);

CREATE UNLOGGED TABLE map_cache (
    key text PRIMARY KEY,
    generation bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    body bytea NOT NULL
);
CREATE INDEX ix_map_cache_generation ON map_cache (generation);

-- Once per transaction: raise the generation (from a deferred trigger, so at commit).
CREATE FUNCTION atlas_map_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('atlas.map_bumped', true), '') = txid_current()::text THEN
    RETURN NULL;
  END IF;
  UPDATE map_generation SET generation = generation + 1;
  PERFORM set_config('atlas.map_bumped', txid_current()::text, true);
  RETURN NULL;
END
$$;

-- TRUNCATE has no row triggers: raise the generation at once.
CREATE FUNCTION atlas_map_bump_now() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE map_generation SET generation = generation + 1;
  RETURN NULL;
END
$$;
"""


def upgrade():
    op.execute(UPGRADE)
    for table in WATCHED:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER map_bump_{table} AFTER INSERT OR UPDATE OR DELETE"
            f" ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
            " EXECUTE FUNCTION atlas_map_bump()"
        )
        op.execute(
            f"CREATE TRIGGER map_bump_{table}_truncated AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION atlas_map_bump_now()"
        )


def downgrade():
    for table in WATCHED:
        op.execute(f"DROP TRIGGER map_bump_{table} ON {table}")
        op.execute(f"DROP TRIGGER map_bump_{table}_truncated ON {table}")
    op.execute("DROP FUNCTION atlas_map_bump_now()")
    op.execute("DROP FUNCTION atlas_map_bump()")
    op.execute("DROP TABLE map_cache")
    op.execute("DROP TABLE map_generation")
