"""consent records outlive an entry's erasure (Art. 17), without the link to it

Revision ID: c4f1a8e2d6b9
Revises: b8e3f0d5a2c7
Create Date: 2026-11-30 23:00:00

When a business has its entry erased (``app/services/data_rights.py``), the proof that consent
to publication was given (text version and time) is kept, but no longer names the entry:
``company_id`` becomes empty (``ON DELETE SET NULL`` instead of ``CASCADE``), ``erased_at``
says when the entry was erased and ``erased_entry_id`` keeps its bare number (no foreign key),
which the anonymous audit line of the erasure names too.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4f1a8e2d6b9"
down_revision = "b8e3f0d5a2c7"
branch_labels = None
depends_on = None

FK = "fk_consent_records_company_id_companies"


def upgrade():
    op.add_column("consent_records", sa.Column("erased_at", sa.DateTime(timezone=True)))
    op.add_column("consent_records", sa.Column("erased_entry_id", sa.Integer()))
    op.alter_column("consent_records", "company_id", existing_type=sa.Integer(), nullable=True)
    op.drop_constraint(FK, "consent_records", type_="foreignkey")
    op.create_foreign_key(
        FK, "consent_records", "companies", ["company_id"], ["id"], ondelete="SET NULL"
    )


def downgrade():
    op.execute("DELETE FROM consent_records WHERE company_id IS NULL")
    op.drop_constraint(FK, "consent_records", type_="foreignkey")
    op.create_foreign_key(
        FK, "consent_records", "companies", ["company_id"], ["id"], ondelete="CASCADE"
    )
    op.alter_column("consent_records", "company_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("consent_records", "erased_entry_id")
    op.drop_column("consent_records", "erased_at")
