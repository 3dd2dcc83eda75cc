"""events: the excluded dates of a series (EXDATE), e.g. a partner feed's cancelled sessions

Revision ID: a4c9e1f7b3d2
Revises: f3a8c1d6e2b9
Create Date: 2026-12-01 07:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "a4c9e1f7b3d2"
down_revision = "f3a8c1d6e2b9"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "events",
        sa.Column(
            "exdates",
            postgresql.ARRAY(sa.DateTime(timezone=True)),
            nullable=False,
            server_default="{}",
        ),
    )


def downgrade():
    op.drop_column("events", "exdates")
