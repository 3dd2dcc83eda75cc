"""import uploads: the import runs as a job of the task queue, with its state, request,
result or error kept on the upload (issue 17)

Revision ID: f3a8c1d6e2b9
Revises: e7b2d4f9a1c6
Create Date: 2026-12-01 03:35:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "f3a8c1d6e2b9"
down_revision = "e7b2d4f9a1c6"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("import_uploads", sa.Column("import_state", sa.String(length=10), nullable=True))
    op.add_column(
        "import_uploads",
        sa.Column("import_request", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "import_uploads",
        sa.Column("import_result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("import_uploads", sa.Column("import_error", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("import_uploads", "import_error")
    op.drop_column("import_uploads", "import_result")
    op.drop_column("import_uploads", "import_request")
    op.drop_column("import_uploads", "import_state")
