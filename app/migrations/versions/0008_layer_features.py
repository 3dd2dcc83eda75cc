"""Layer features: childcare, housing, transit, training and configured kinds, as points with
JSONB attributes

Revision ID: 8c4d2a7e91f0
Revises: 7b2e4f61a0c3
Create Date: 2026-11-29 20:18:24.156687

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import (
    Geometry,
    alembic_helpers,  # noqa: F401  (registers the geospatial ops)
)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "8c4d2a7e91f0"
down_revision = "7b2e4f61a0c3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table(
        "layer_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "location",
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
        sa.Column("source", sa.String(length=200), server_default="", nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column(
            "imported_at",
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
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_features")),
    )
    with op.batch_alter_table("layer_features", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_layer_features_location",
            ["location"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            batch_op.f("ix_layer_features_expires_on"), ["expires_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_layer_features_kind"), ["kind"], unique=False)
        batch_op.create_index(
            "ix_layer_features_location_geography",
            [sa.literal_column("(location::geography)")],
            unique=False,
            postgresql_using="gist",
        )


def downgrade():
    with op.batch_alter_table("layer_features", schema=None) as batch_op:
        batch_op.drop_index("ix_layer_features_location_geography", postgresql_using="gist")
        batch_op.drop_index(batch_op.f("ix_layer_features_kind"))
        batch_op.drop_index(batch_op.f("ix_layer_features_expires_on"))
        batch_op.drop_geospatial_index(
            "idx_layer_features_location", postgresql_using="gist", column_name="location"
        )

    op.drop_geospatial_table("layer_features")
