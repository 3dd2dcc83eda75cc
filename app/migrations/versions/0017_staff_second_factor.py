"""staff sign-in: a second factor (TOTP) with recovery codes, required per account by admins;
wrong codes counted apart from wrong passwords (issue 17)

Revision ID: c4f1a9e2d7b3
Revises: c4f1a8e2d6b9
Create Date: 2026-11-30 23:00:00

The TOTP secrets are stored encrypted (Fernet, app.services.second_factor); recovery codes as
salted hashes only.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4f1a9e2d7b3"
down_revision = "c4f1a8e2d6b9"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("staff_users", sa.Column("totp_secret", sa.Text(), nullable=True))
    op.add_column("staff_users", sa.Column("totp_pending_secret", sa.Text(), nullable=True))
    op.add_column("staff_users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "staff_users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "staff_users",
        sa.Column("totp_required", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_recovery_codes_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
    )
    op.create_index(op.f("ix_staff_recovery_codes_staff_id"), "staff_recovery_codes", ["staff_id"])
    op.add_column(
        "staff_login_failures",
        sa.Column("kind", sa.String(length=10), server_default="password", nullable=False),
    )


def downgrade():
    op.drop_column("staff_login_failures", "kind")
    op.drop_index(op.f("ix_staff_recovery_codes_staff_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    for column in (
        "totp_required",
        "totp_enabled_at",
        "totp_last_step",
        "totp_pending_secret",
        "totp_secret",
    ):
        op.drop_column("staff_users", column)
