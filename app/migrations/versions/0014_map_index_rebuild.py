"""map index: proximity computed once per employer and feature, the bulk rebuild in minutes

Revision ID: a7d2e9c4f1b6
Revises: f6c4d0a8b3e5
Create Date: 2026-11-30 08:00:00

Migration 0012 computed the proximity of employers to layer features twice (for the ``n:``
tags and for ``map_nearby``) and grouped wide rows (the geographies) per radius: the rebuild
of 100,000 employers took about two minutes, that of 1,000,000 more than half an hour.
``atlas_nearby_rows(ids)`` now measures one distance per employer and feature within the
largest radius, keeps only the narrow pairs and groups those; the ``n:`` tags of
``atlas_map_rows`` are its rows that never expire (so tags and ``map_nearby`` agree by
construction), and ``atlas_map_rebuild()`` gets the memory to group in one pass.
"""

from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7d2e9c4f1b6"
down_revision = "f6c4d0a8b3e5"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- The proximity rows of the published employers among ``ids``: per layer kind and radius
-- (atlas_proximity_metres(); 2000, the largest, is written out below for the index) with a
-- feature within, the last day one of them is public (``infinity`` when one never expires).
-- One index probe per employer, one spheroid distance per employer and feature within
-- 2000 m; the pairs are narrow before they are grouped.
CREATE FUNCTION atlas_nearby_rows(ids integer[])
RETURNS TABLE (kind varchar, metres integer, company_id integer, until date)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  WITH pairs AS MATERIALIZED (
    SELECT c.id, f.kind, coalesce(f.expires_on, 'infinity'::date) AS u,
           ST_Distance(geography(f.location), geography(c.location)) AS d
    FROM companies c
    JOIN unnest(ids) AS i (id) ON i.id = c.id
    JOIN layer_features f
      ON ST_DWithin(geography(f.location), geography(c.location), 2000)
    WHERE c.status = 'published' AND c.location IS NOT NULL
  )
  SELECT p.kind, r.metres, p.id, max(p.u)
  FROM pairs p JOIN unnest(atlas_proximity_metres()) AS r (metres) ON p.d <= r.metres
  GROUP BY 1, 2, 3;
END
$$;

-- The facet tags of the published employers among ``ids`` (as the employer filter reads them).
-- (PL/pgSQL rather than SQL: its plan is kept for the session, a SQL function's is not.)
CREATE OR REPLACE FUNCTION atlas_map_rows(ids integer[])
RETURNS TABLE (company_id integer, location geometry, mx double precision,
               my double precision, tags text[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  WITH c AS MATERIALIZED (  -- set-based: one join per kind of tag, for 1 or 1,000,000 ids
    SELECT c.* FROM companies c JOIN unnest(ids) AS i (id) ON i.id = c.id
    WHERE c.status = 'published' AND c.location IS NOT NULL
  ), found (id, t) AS (
    SELECT s.company_id, 'd:' || s.division_code FROM c JOIN company_sectors s
      ON s.company_id = c.id
    UNION ALL
    SELECT s.company_id, 's:' || d.section_code FROM c JOIN company_sectors s
      ON s.company_id = c.id JOIN wz_divisions d ON d.code = s.division_code
    UNION ALL
    SELECT o.company_id, 'g:' || o.group_code FROM c JOIN company_occupations o
      ON o.company_id = c.id
    UNION ALL
    SELECT o.company_id, 'a:' || g.area_code FROM c JOIN company_occupations o
      ON o.company_id = c.id JOIN kldb_groups g ON g.code = o.group_code
    UNION ALL
    SELECT f.company_id, 'f:' || f.criterion_key FROM c JOIN company_family_criteria f
      ON f.company_id = c.id
    UNION ALL
    SELECT a.company_id, 'p:' || a.code FROM c JOIN company_apprenticeships a
      ON a.company_id = c.id
    UNION ALL
    SELECT c.id, 'l:' || l FROM c CROSS JOIN unnest(c.languages) AS l
    UNION ALL
    SELECT c.id, 'z:' || c.size_class FROM c WHERE c.size_class IS NOT NULL
    UNION ALL
    SELECT c.id, 'o:apprenticeship' FROM c WHERE c.offers_apprenticeships
    UNION ALL
    SELECT c.id, 'o:internship' FROM c WHERE c.offers_internships
    UNION ALL
    SELECT c.id, 'o:jobs' FROM c WHERE c.open_positions > 0
    UNION ALL  -- inside a stored boundary (app.features.employers.in_municipalities)
    SELECT c.id, 'm:' || m.ags FROM c JOIN municipalities m
      ON m.boundary IS NOT NULL AND ST_Intersects(m.boundary, c.location)
    UNION ALL  -- by key where that municipality has no stored boundary
    SELECT c.id, 'm:' || c.municipality_ags FROM c
    WHERE c.municipality_ags IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM municipalities m
      WHERE m.ags = c.municipality_ags AND m.boundary IS NOT NULL)
    UNION ALL  -- near a feature of a layer kind that does not expire (map_nearby's rows)
    SELECT n.company_id, 'n:' || n.kind || ':' || n.metres
    FROM atlas_nearby_rows(ids) AS n WHERE n.until = 'infinity'
  )
  SELECT c.id, c.location, atlas_mx(ST_X(c.location)), atlas_my(ST_Y(c.location)),
         coalesce(t.tags, '{}')
  FROM c LEFT JOIN (
    SELECT found.id, array_agg(DISTINCT found.t ORDER BY found.t) AS tags
    FROM found GROUP BY found.id
  ) t ON t.id = c.id;
END
$$;

CREATE OR REPLACE FUNCTION atlas_nearby_refresh(ids integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT atlas_map_enabled() OR ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  DELETE FROM map_nearby WHERE company_id = ANY (ids);
  INSERT INTO map_nearby (kind, metres, company_id, until)
  SELECT * FROM atlas_nearby_rows(ids);
END
$$;

-- Everything anew, set-based (after a bulk load with atlas.map_index = off); the memory lets
-- the proximity pairs and the finest cells be grouped in one pass.
CREATE OR REPLACE FUNCTION atlas_map_rebuild() RETURNS void
LANGUAGE plpgsql SET work_mem = '256MB' AS $$
DECLARE
  zb integer;
  finer integer := NULL;
  ids integer[];
BEGIN
  ALTER TABLE map_points DISABLE TRIGGER USER;
  TRUNCATE map_cells, map_nearby, map_points;
  ids := ARRAY(SELECT id FROM companies WHERE status = 'published' AND location IS NOT NULL);
  INSERT INTO map_points SELECT * FROM atlas_map_rows(ids);
  FOREACH zb IN ARRAY ARRAY(SELECT b FROM unnest(atlas_map_bands()) AS b ORDER BY b DESC)
  LOOP
    IF finer IS NULL THEN
      INSERT INTO map_cells (band, tag, cx, cy, n, sx, sy, sid)
      SELECT zb, t, floor(p.mx * 2 ^ (zb + 2))::integer,
             floor(p.my * 2 ^ (zb + 2))::integer, count(*), sum(ST_X(p.location)),
             sum(ST_Y(p.location)), sum(p.company_id)
      FROM map_points p CROSS JOIN LATERAL unnest(p.tags || '*'::text) AS t
      GROUP BY 1, 2, 3, 4;
    ELSE  -- a coarser band from the finer one: cells are nested (a power of two apart)
      INSERT INTO map_cells (band, tag, cx, cy, n, sx, sy, sid)
      SELECT zb, c.tag, c.cx >> (finer - zb), c.cy >> (finer - zb), sum(c.n),
             sum(c.sx), sum(c.sy), sum(c.sid)
      FROM map_cells c WHERE c.band = finer
      GROUP BY 1, 2, 3, 4;
    END IF;
    finer := zb;
  END LOOP;
  INSERT INTO map_nearby (kind, metres, company_id, until)
  SELECT * FROM atlas_nearby_rows(ids);
  ALTER TABLE map_points ENABLE TRIGGER USER;
END
$$;
"""


def _migration_0012():
    """Migration 0012's module: its function definitions are what a downgrade restores."""
    path = Path(__file__).with_name("0012_map_index.py")
    spec = spec_from_file_location("kmu_atlas_migration_0012", path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    op.execute(FUNCTIONS)


def downgrade():
    op.execute(_migration_0012().FUNCTIONS.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.execute("DROP FUNCTION atlas_nearby_rows(integer[])")
