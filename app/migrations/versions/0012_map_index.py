"""map index: a narrow table of published employers, pre-aggregated grid cells, proximity

Revision ID: e5b3c9f7a2d4
Revises: d4a2b8e6f1c3
Create Date: 2026-11-30 04:30:00

The map's fast path (``app/features/map_index.py``) reads three tables that the database keeps
up to date itself, in the same transaction as every change (so they are never stale):

- ``map_points``: one row per published employer: its point, its Web Mercator position
  (``mx``, ``my`` in [0, 1), as Leaflet's pixel space divided by the world's width) and its
  facet tags (``s:C`` section, ``d:47`` division, ``a:2`` occupation area, ``g:21`` group,
  ``m:<AGS>`` municipality by boundary as the filter decides it, ``z:small`` size, ``f:<key>``
  family criterion, ``o:jobs`` offer, ``p:<code>`` apprenticeship, ``l:tr`` language,
  ``n:transit:500`` within 500 m of a feature of that layer kind that never expires).
- ``map_cells``: per band (zoom 2, 5, 8, 11, 13), grid cell (64 screen pixels at that zoom) and tag
  (``*`` for every employer): the count, the sums of longitude, latitude and ids (the id of a
  cell's only employer is the sum). Kept up by statement triggers on ``map_points``.
- ``map_nearby``: per employer, layer kind and proximity radius (300, 500, 1000, 2000 m) with
  some feature of that kind within: the last day one of them is public (``infinity`` when one
  never expires), so ``within=transit:500`` is a lookup, not a distance join.

Statement triggers (with transition tables) on companies, their classification tables,
municipalities and layer features recompute the rows of the employers a statement touched.
A session may set ``atlas.map_index = off`` for a bulk load and call ``atlas_map_rebuild()``.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e5b3c9f7a2d4"
down_revision = "d4a2b8e6f1c3"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE map_points (
    company_id integer PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    location geometry(Point, 4326) NOT NULL,
    mx double precision NOT NULL,
    my double precision NOT NULL,
    tags text[] NOT NULL
);
CREATE INDEX ix_map_points_location ON map_points USING gist (location);
CREATE INDEX ix_map_points_geography ON map_points USING gist (geography(location));
CREATE INDEX ix_map_points_tags ON map_points USING gin (tags);

CREATE TABLE map_cells (
    band smallint NOT NULL,
    tag text NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    n integer NOT NULL,
    sx double precision NOT NULL,
    sy double precision NOT NULL,
    sid bigint NOT NULL,
    PRIMARY KEY (band, tag, cx, cy)
);
CREATE INDEX ix_map_cells_empty ON map_cells (band) WHERE n = 0;

CREATE TABLE map_nearby (
    kind varchar(40) NOT NULL,
    metres integer NOT NULL,
    company_id integer NOT NULL REFERENCES map_points (company_id) ON DELETE CASCADE,
    until date NOT NULL,
    PRIMARY KEY (kind, metres, company_id)
);
CREATE INDEX ix_map_nearby_company ON map_nearby (company_id);

-- The list by name: published employers in German order, walked with a LIMIT.
CREATE INDEX ix_companies_published_name ON companies ((name COLLATE "de-x-icu"), id)
  WHERE status = 'published';
"""

FUNCTIONS = r"""
-- The bands whose cells are stored, and the proximity radii (app.features.filters
-- PROXIMITY_OPTIONS; tests/integration/test_map_index.py keeps them equal).
CREATE FUNCTION atlas_map_bands() RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ARRAY[2, 5, 8, 11, 13] $$;
-- (2000, the largest, is also written out in the distance joins below.)
CREATE FUNCTION atlas_proximity_metres() RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ARRAY[300, 500, 1000, 2000] $$;

CREATE FUNCTION atlas_map_enabled() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('atlas.map_index', true), '') <> 'off'
$$;

-- Web Mercator in [0, 1): x from the west, y from the north (as Leaflet's pixels / world).
CREATE FUNCTION atlas_mx(lon double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT (lon + 180) / 360 $$;
CREATE FUNCTION atlas_my(lat double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT 0.5 - ln((1 + sin(radians(l))) / (1 - sin(radians(l)))) / (4 * pi())
  FROM (SELECT greatest(-85.05112878, least(85.05112878, lat)) AS l) AS clamped
$$;

-- The facet tags of the published employers among ``ids`` (as the employer filter reads them).
-- (PL/pgSQL rather than SQL: its plan is kept for the session, a SQL function's is not.)
CREATE FUNCTION atlas_map_rows(ids integer[])
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
    UNION ALL  -- near a feature of a layer kind that does not expire: one index probe per
    -- employer, one distance per pair (for points, ST_DWithin is distance <= radius)
    SELECT c.id, 'n:' || f.kind || ':' || r FROM c
      CROSS JOIN LATERAL (
        SELECT f.kind, ST_Distance(geography(f.location), geography(c.location)) AS d
        FROM layer_features f
        WHERE f.expires_on IS NULL
          AND ST_DWithin(geography(f.location), geography(c.location), 2000)
      ) AS f
      CROSS JOIN unnest(atlas_proximity_metres()) AS r
    WHERE f.d <= r
  )
  SELECT c.id, c.location, atlas_mx(ST_X(c.location)), atlas_my(ST_Y(c.location)),
         coalesce(t.tags, '{}')
  FROM c LEFT JOIN (
    SELECT found.id, array_agg(DISTINCT found.t ORDER BY found.t) AS tags
    FROM found GROUP BY found.id
  ) t ON t.id = c.id;
END
$$;

-- Bring the map rows of ``ids`` up to date (rows that did not change are left alone). Two
-- statements, so that the triggers of map_points see each change once.
CREATE FUNCTION atlas_map_refresh(ids integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT atlas_map_enabled() OR ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  DELETE FROM map_points p
  WHERE p.company_id = ANY (ids) AND NOT EXISTS (
    SELECT 1 FROM atlas_map_rows(ids) f
    WHERE f.company_id = p.company_id AND f.mx = p.mx AND f.my = p.my AND f.tags = p.tags);
  INSERT INTO map_points
  SELECT f.* FROM atlas_map_rows(ids) f
  WHERE NOT EXISTS (SELECT 1 FROM map_points p WHERE p.company_id = f.company_id)
  ORDER BY f.company_id;
END
$$;

-- The statement that adds (sign 1) or takes away (sign -1) the map points of ``source`` (a
-- transition table) to or from the cells of every band; cells left empty are removed.
CREATE FUNCTION atlas_map_cells_sql(source text, sign integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
  SELECT format($q$
    INSERT INTO map_cells AS c (band, tag, cx, cy, n, sx, sy, sid)
    SELECT b, t, floor(p.mx * 2 ^ (b + 2))::integer, floor(p.my * 2 ^ (b + 2))::integer,
           %2$s * count(*), %2$s * sum(ST_X(p.location)), %2$s * sum(ST_Y(p.location)),
           %2$s * sum(p.company_id)
    FROM %1$I p
    CROSS JOIN unnest(atlas_map_bands()) AS b
    CROSS JOIN LATERAL unnest(p.tags || '*'::text) AS t
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (band, tag, cx, cy) DO UPDATE
      SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy,
          sid = c.sid + excluded.sid
  $q$, source, sign)
$f$;

CREATE FUNCTION atlas_map_points_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE atlas_map_cells_sql('new_rows', 1);
    PERFORM atlas_nearby_refresh(ARRAY(SELECT company_id FROM new_rows));
  ELSE
    EXECUTE atlas_map_cells_sql('old_rows', -1);
    DELETE FROM map_cells WHERE n = 0;
  END IF;
  RETURN NULL;
END
$$;

-- The proximity rows of the map points ``ids``: per layer kind and radius with a feature
-- within, the last day one of those features is public.
CREATE FUNCTION atlas_nearby_refresh(ids integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT atlas_map_enabled() OR ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  DELETE FROM map_nearby WHERE company_id = ANY (ids);
  INSERT INTO map_nearby (kind, metres, company_id, until)
  SELECT f.kind, r, p.company_id, max(coalesce(f.expires_on, 'infinity'::date))
  FROM map_points p
  JOIN unnest(ids) AS i (id) ON i.id = p.company_id
  CROSS JOIN LATERAL (
    SELECT f.kind, f.expires_on,
           ST_Distance(geography(f.location), geography(p.location)) AS d
    FROM layer_features f
    WHERE ST_DWithin(geography(f.location), geography(p.location), 2000)
  ) AS f
  CROSS JOIN unnest(atlas_proximity_metres()) AS r
  WHERE f.d <= r
  GROUP BY 1, 2, 3;
END
$$;

-- Companies inserted, or updated in a column the map rows read: recompute their map rows.
CREATE FUNCTION atlas_companies_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM atlas_map_refresh(ARRAY(SELECT id FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM atlas_map_refresh(ARRAY(
      SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (n.status, n.location::text, n.size_class, n.offers_apprenticeships,
             n.offers_internships, n.open_positions > 0, n.languages, n.municipality_ags)
        IS DISTINCT FROM
            (o.status, o.location::text, o.size_class, o.offers_apprenticeships,
             o.offers_internships, o.open_positions > 0, o.languages, o.municipality_ags)));
  END IF;
  RETURN NULL;  -- a deleted company's map rows go with it (ON DELETE CASCADE)
END
$$;

-- A classification table changed (company_id column): recompute those companies.
CREATE FUNCTION atlas_company_links_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM atlas_map_refresh(ARRAY(SELECT DISTINCT company_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM atlas_map_refresh(ARRAY(SELECT DISTINCT company_id FROM old_rows));
  ELSE
    PERFORM atlas_map_refresh(ARRAY(
      SELECT company_id FROM new_rows UNION SELECT company_id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;

-- Boundaries changed: every published employer's municipality tags are recomputed.
CREATE FUNCTION atlas_municipalities_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM atlas_map_refresh(ARRAY(SELECT company_id FROM map_points));
  PERFORM atlas_map_refresh(ARRAY(
    SELECT id FROM companies WHERE status = 'published' AND location IS NOT NULL
    EXCEPT SELECT company_id FROM map_points));
  RETURN NULL;
END
$$;

-- Layer features changed: the map rows (proximity tags) and the proximity rows of the
-- employers near the old and new places.
CREATE FUNCTION atlas_layer_features_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids integer[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    ids := ARRAY(
      SELECT DISTINCT p.company_id FROM new_rows f JOIN map_points p
        ON ST_DWithin(geography(p.location), geography(f.location), 2000));
  ELSIF TG_OP = 'DELETE' THEN
    ids := ARRAY(
      SELECT DISTINCT p.company_id FROM old_rows f JOIN map_points p
        ON ST_DWithin(geography(p.location), geography(f.location), 2000));
  ELSE
    ids := ARRAY(
      SELECT p.company_id FROM new_rows f JOIN map_points p
        ON ST_DWithin(geography(p.location), geography(f.location), 2000)
      UNION
      SELECT p.company_id FROM old_rows f JOIN map_points p
        ON ST_DWithin(geography(p.location), geography(f.location), 2000));
  END IF;
  PERFORM atlas_map_refresh(ids);
  PERFORM atlas_nearby_refresh(ids);
  RETURN NULL;
END
$$;

CREATE FUNCTION atlas_map_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- map_points and map_nearby go with companies (TRUNCATE … CASCADE), map_cells do not;
  -- map_nearby may be truncated by the same statement, so its rows are deleted; the
  -- proximity tags of the map rows are recomputed.
  IF TG_TABLE_NAME = 'layer_features' THEN
    DELETE FROM map_nearby;
    PERFORM atlas_map_refresh(ARRAY(
      SELECT company_id FROM map_points WHERE EXISTS (
        SELECT 1 FROM unnest(tags) AS t WHERE t LIKE 'n:%')));
  ELSE
    TRUNCATE map_cells;
  END IF;
  RETURN NULL;
END
$$;

-- Everything anew, set-based (after a bulk load with atlas.map_index = off).
CREATE FUNCTION atlas_map_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  zb integer;
  finer integer := NULL;
BEGIN
  ALTER TABLE map_points DISABLE TRIGGER USER;
  TRUNCATE map_cells, map_nearby, map_points;
  INSERT INTO map_points SELECT * FROM atlas_map_rows(ARRAY(
    SELECT id FROM companies WHERE status = 'published' AND location IS NOT NULL));
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
  SELECT f.kind, r, p.company_id, max(coalesce(f.expires_on, 'infinity'::date))
  FROM map_points p
  CROSS JOIN LATERAL (
    SELECT f.kind, f.expires_on,
           ST_Distance(geography(f.location), geography(p.location)) AS d
    FROM layer_features f
    WHERE ST_DWithin(geography(f.location), geography(p.location), 2000)
  ) AS f
  CROSS JOIN unnest(atlas_proximity_metres()) AS r
  WHERE f.d <= r
  GROUP BY 1, 2, 3;
  ALTER TABLE map_points ENABLE TRIGGER USER;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER map_points_inserted AFTER INSERT ON map_points
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION atlas_map_points_changed();
CREATE TRIGGER map_points_deleted AFTER DELETE ON map_points
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION atlas_map_points_changed();

CREATE TRIGGER map_companies_inserted AFTER INSERT ON companies
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION atlas_companies_changed();
CREATE TRIGGER map_companies_updated AFTER UPDATE ON companies
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION atlas_companies_changed();
CREATE TRIGGER map_companies_truncated AFTER TRUNCATE ON companies
  FOR EACH STATEMENT EXECUTE FUNCTION atlas_map_truncated();
CREATE TRIGGER map_layer_features_truncated AFTER TRUNCATE ON layer_features
  FOR EACH STATEMENT EXECUTE FUNCTION atlas_map_truncated();
CREATE TRIGGER map_municipalities_changed AFTER INSERT OR UPDATE OR DELETE ON municipalities
  FOR EACH STATEMENT EXECUTE FUNCTION atlas_municipalities_changed();
"""

LINK_TABLES = (
    "company_sectors",
    "company_occupations",
    "company_family_criteria",
    "company_apprenticeships",
    "layer_features",
)


def _statement_triggers(table: str, function: str) -> str:
    return f"""
CREATE TRIGGER map_{table}_inserted AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER map_{table}_deleted AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER map_{table}_updated AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def upgrade():
    op.execute(TABLES)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    for table in LINK_TABLES:
        function = (
            "atlas_layer_features_changed"
            if table == "layer_features"
            else "atlas_company_links_changed"
        )
        op.execute(_statement_triggers(table, function))
    op.execute("SELECT atlas_map_rebuild()")


def downgrade():
    for table in LINK_TABLES:
        for event in ("inserted", "deleted", "updated"):
            op.execute(f"DROP TRIGGER map_{table}_{event} ON {table}")
    for name, table in (
        ("map_companies_inserted", "companies"),
        ("map_companies_updated", "companies"),
        ("map_companies_truncated", "companies"),
        ("map_layer_features_truncated", "layer_features"),
        ("map_municipalities_changed", "municipalities"),
    ):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP TABLE map_nearby, map_cells, map_points")
    op.execute("DROP INDEX ix_companies_published_name")
    for function in (
        "atlas_map_rebuild()",
        "atlas_map_truncated()",
        "atlas_layer_features_changed()",
        "atlas_municipalities_changed()",
        "atlas_company_links_changed()",
        "atlas_companies_changed()",
        "atlas_nearby_refresh(integer[])",
        "atlas_map_points_changed()",
        "atlas_map_cells_sql(text, integer)",
        "atlas_map_refresh(integer[])",
        "atlas_map_rows(integer[])",
        "atlas_my(double precision)",
        "atlas_mx(double precision)",
        "atlas_map_enabled()",
        "atlas_proximity_metres()",
        "atlas_map_bands()",
    ):
        op.execute(f"DROP FUNCTION {function}")
