"""Hardening after the attack-minded review (issue 9): failed sign-ins counted per client
instead of locking accounts; the purpose and draft of outgoing mail, to limit resume mails

Revision ID: 6a1f0c9d2e74
Revises: bc848ec30125
Create Date: 2026-11-29 19:15:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6a1f0c9d2e74"
down_revision = "bc848ec30125"
branch_labels = None
depends_on = None


def upgrade():
    # --- staff sign-in ---
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    op.create_index(
        op.f("ix_staff_login_failures_client"), "staff_login_failures", ["client"], unique=False
    )
    op.create_index(
        op.f("ix_staff_login_failures_at"), "staff_login_failures", ["at"], unique=False
    )
    # Wrong passwords no longer lock the account itself (anyone could lock anyone out).
    op.drop_column("staff_users", "locked_until")
    op.drop_column("staff_users", "failed_logins")
    # --- questionnaire mail ---
    # Why a mail was sent, so that mail anyone can trigger (the resume link) can be limited.
    op.add_column(
        "outbox_messages",
        sa.Column("purpose", sa.String(length=20), server_default="", nullable=False),
    )
    op.add_column("outbox_messages", sa.Column("draft_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_outbox_messages_draft_id_questionnaire_drafts"),
        "outbox_messages",
        "questionnaire_drafts",
        ["draft_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_outbox_messages_draft_id"), "outbox_messages", ["draft_id"], unique=False
    )
    op.create_index(
        "ix_outbox_messages_purpose_created_at",
        "outbox_messages",
        ["purpose", "created_at"],
        unique=False,
    )


def downgrade():
    # --- questionnaire mail ---
    op.drop_index("ix_outbox_messages_purpose_created_at", table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_draft_id"), table_name="outbox_messages")
    op.drop_constraint(
        op.f("fk_outbox_messages_draft_id_questionnaire_drafts"),
        "outbox_messages",
        type_="foreignkey",
    )
    op.drop_column("outbox_messages", "draft_id")
    op.drop_column("outbox_messages", "purpose")
    # --- staff sign-in ---
    op.add_column(
        "staff_users",
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "staff_users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_index(op.f("ix_staff_login_failures_at"), table_name="staff_login_failures")
    op.drop_index(op.f("ix_staff_login_failures_client"), table_name="staff_login_failures")
    op.drop_table("staff_login_failures")
