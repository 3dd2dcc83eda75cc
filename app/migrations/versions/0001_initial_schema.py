"""initial schema

Revision ID: ad25e5188b25
Revises:
Create Date: 2026-11-21 11:36:22.443909

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers the geospatial ops)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "ad25e5188b25"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "family_criteria",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_de", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_family_criteria")),
    )
    op.create_table(
        "kldb_areas",
        sa.Column("code", sa.String(length=1), nullable=False),
        sa.Column("title_de", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_kldb_areas")),
    )
    op.create_geospatial_table(
        "municipalities",
        sa.Column("ags", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_key", sa.String(length=64), nullable=False),
        sa.Column(
            "centroid",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("ags", name=op.f("pk_municipalities")),
    )
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_municipalities_boundary",
            ["boundary"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_geospatial_index(
            "idx_municipalities_centroid",
            ["centroid"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            batch_op.f("ix_municipalities_region_key"), ["region_key"], unique=False
        )

    op.create_table(
        "wz_sections",
        sa.Column("code", sa.String(length=1), nullable=False),
        sa.Column("title_de", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wz_sections")),
    )
    op.create_geospatial_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("house_number", sa.String(length=20), nullable=False),
        sa.Column("postal_code", sa.String(length=5), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("municipality_ags", sa.String(length=8), nullable=True),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column(
            "size_class",
            sa.String(length=6),
            sa.Computed(
                "CASE WHEN employees IS NULL THEN NULL WHEN employees < 10 THEN 'micro' WHEN employees < 50 THEN 'small' WHEN employees < 250 THEN 'medium' ELSE 'large' END",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("offers_apprenticeships", sa.Boolean(), nullable=False),
        sa.Column("offers_internships", sa.Boolean(), nullable=False),
        sa.Column("open_positions", sa.Integer(), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "pending",
                "published",
                "rejected",
                "archived",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status <> 'published' OR location IS NOT NULL",
            name=op.f("ck_companies_published_has_location"),
        ),
        sa.CheckConstraint(
            "employees IS NULL OR employees >= 1", name=op.f("ck_companies_employees_positive")
        ),
        sa.CheckConstraint(
            "open_positions >= 0", name=op.f("ck_companies_open_positions_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_ags"],
            ["municipalities.ags"],
            name=op.f("fk_companies_municipality_ags_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("slug", name=op.f("uq_companies_slug")),
        sa.UniqueConstraint("source", "source_ref", name=op.f("uq_companies_source_source_ref")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_companies_location",
            ["location"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            "ix_companies_languages", ["languages"], unique=False, postgresql_using="gin"
        )
        batch_op.create_index(
            "ix_companies_location_geography",
            [sa.literal_column("(location::geography)")],
            unique=False,
            postgresql_using="gist",
        )
        batch_op.create_index(
            batch_op.f("ix_companies_municipality_ags"), ["municipality_ags"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_companies_size_class"), ["size_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_companies_status"), ["status"], unique=False)

    op.create_table(
        "kldb_groups",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("area_code", sa.String(length=1), nullable=False),
        sa.Column("title_de", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["kldb_areas.code"], name=op.f("fk_kldb_groups_area_code_kldb_areas")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_kldb_groups")),
    )
    with op.batch_alter_table("kldb_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kldb_groups_area_code"), ["area_code"], unique=False)

    op.create_geospatial_table(
        "postal_codes",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("municipality_ags", sa.String(length=8), nullable=False),
        sa.Column(
            "point",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["municipality_ags"],
            ["municipalities.ags"],
            name=op.f("fk_postal_codes_municipality_ags_municipalities"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_postal_codes")),
    )
    with op.batch_alter_table("postal_codes", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_postal_codes_point",
            ["point"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            batch_op.f("ix_postal_codes_municipality_ags"), ["municipality_ags"], unique=False
        )

    op.create_table(
        "wz_divisions",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("section_code", sa.String(length=1), nullable=False),
        sa.Column("title_de", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_code"],
            ["wz_sections.code"],
            name=op.f("fk_wz_divisions_section_code_wz_sections"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wz_divisions")),
    )
    with op.batch_alter_table("wz_divisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wz_divisions_section_code"), ["section_code"], unique=False
        )

    op.create_table(
        "company_family_criteria",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("criterion_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_family_criteria_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_key"],
            ["family_criteria.key"],
            name=op.f("fk_company_family_criteria_criterion_key_family_criteria"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "criterion_key", name=op.f("pk_company_family_criteria")
        ),
    )
    with op.batch_alter_table("company_family_criteria", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_family_criteria_criterion_key"), ["criterion_key"], unique=False
        )

    op.create_table(
        "company_occupations",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("group_code", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_occupations_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["kldb_groups.code"],
            name=op.f("fk_company_occupations_group_code_kldb_groups"),
        ),
        sa.PrimaryKeyConstraint("company_id", "group_code", name=op.f("pk_company_occupations")),
    )
    with op.batch_alter_table("company_occupations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_occupations_group_code"), ["group_code"], unique=False
        )

    op.create_table(
        "company_sectors",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_sectors_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["wz_divisions.code"],
            name=op.f("fk_company_sectors_division_code_wz_divisions"),
        ),
        sa.PrimaryKeyConstraint("company_id", "division_code", name=op.f("pk_company_sectors")),
    )
    with op.batch_alter_table("company_sectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_sectors_division_code"), ["division_code"], unique=False
        )

    op.create_table(
        "family_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_family_certificates_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_certificates")),
    )
    with op.batch_alter_table("family_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_family_certificates_company_id"), ["company_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("family_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_certificates_company_id"))

    op.drop_table("family_certificates")
    with op.batch_alter_table("company_sectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_sectors_division_code"))

    op.drop_table("company_sectors")
    with op.batch_alter_table("company_occupations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_occupations_group_code"))

    op.drop_table("company_occupations")
    with op.batch_alter_table("company_family_criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_family_criteria_criterion_key"))

    op.drop_table("company_family_criteria")
    with op.batch_alter_table("wz_divisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wz_divisions_section_code"))

    op.drop_table("wz_divisions")
    with op.batch_alter_table("postal_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postal_codes_municipality_ags"))
        batch_op.drop_geospatial_index(
            "idx_postal_codes_point", postgresql_using="gist", column_name="point"
        )

    op.drop_geospatial_table("postal_codes")
    with op.batch_alter_table("kldb_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kldb_groups_area_code"))

    op.drop_table("kldb_groups")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_companies_status"))
        batch_op.drop_index(batch_op.f("ix_companies_size_class"))
        batch_op.drop_index(batch_op.f("ix_companies_municipality_ags"))
        batch_op.drop_index("ix_companies_location_geography", postgresql_using="gist")
        batch_op.drop_index("ix_companies_languages", postgresql_using="gin")
        batch_op.drop_geospatial_index(
            "idx_companies_location", postgresql_using="gist", column_name="location"
        )

    op.drop_geospatial_table("companies")
    op.drop_table("wz_sections")
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipalities_region_key"))
        batch_op.drop_geospatial_index(
            "idx_municipalities_centroid", postgresql_using="gist", column_name="centroid"
        )
        batch_op.drop_geospatial_index(
            "idx_municipalities_boundary", postgresql_using="gist", column_name="boundary"
        )

    op.drop_geospatial_table("municipalities")
    op.drop_table("kldb_areas")
    op.drop_table("family_criteria")
