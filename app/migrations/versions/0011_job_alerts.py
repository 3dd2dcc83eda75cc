"""Job alerts without an account; extra header fields on outbox messages

Revision ID: d4a2b8e6f1c3
Revises: c3f1a9d2e4b6
Create Date: 2026-11-30 02:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "d4a2b8e6f1c3"
down_revision = "c3f1a9d2e4b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("filter_query", sa.Text(), nullable=False),
        sa.Column("filter_key", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("consent_version", sa.String(length=32), nullable=False),
        sa.Column(
            "consent_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "snapshot",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("last_sent_week", sa.String(length=8), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bounce_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_bounce_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_alerts")),
    )
    with op.batch_alter_table("job_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_alerts_confirmed_week", ["confirmed_at", "last_sent_week"], unique=False
        )
        batch_op.create_index(
            "uq_job_alerts_email_filter",
            [sa.literal_column("lower(email)"), "filter_key"],
            unique=True,
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "headers",
                postgresql.JSONB(astext_type=sa.Text()),
                server_default="{}",
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("headers")

    with op.batch_alter_table("job_alerts", schema=None) as batch_op:
        batch_op.drop_index("uq_job_alerts_email_filter")
        batch_op.drop_index("ix_job_alerts_confirmed_week")

    op.drop_table("job_alerts")
