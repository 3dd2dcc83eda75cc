"""geocode cache

Revision ID: 7e73de1478ad
Revises: fdbc8f88423d
Create Date: 2026-11-21 12:25:54.592557

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers the geospatial ops)

# revision identifiers, used by Alembic.
revision = "7e73de1478ad"
down_revision = "fdbc8f88423d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "geocode_cache",
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("query", name=op.f("pk_geocode_cache")),
    )


def downgrade():
    op.drop_table("geocode_cache")
