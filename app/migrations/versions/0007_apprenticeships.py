"""Apprenticeship occupations (issue 11): the recognised apprenticeship occupations a business
trains in, with this year's places

The occupations' codes are checked against the shipped list (app/data/apprenticeships.json)
by the write model; there is no reference table.

Revision ID: 7b2e4f61a0c3
Revises: 6a1f0c9d2e74
Create Date: 2026-12-02 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7b2e4f61a0c3"
down_revision = "6a1f0c9d2e74"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "company_apprenticeships",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("places", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "places IS NULL OR places >= 0",
            name=op.f("ck_company_apprenticeships_places_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_apprenticeships_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "code", name=op.f("pk_company_apprenticeships")),
    )
    op.create_index(
        op.f("ix_company_apprenticeships_code"), "company_apprenticeships", ["code"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_company_apprenticeships_code"), table_name="company_apprenticeships")
    op.drop_table("company_apprenticeships")
