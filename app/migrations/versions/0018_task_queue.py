"""the task queue: procrastinate's tables, types and functions (mail delivery and the scheduled
work run as jobs; issue 17)

Revision ID: e7b2d4f9a1c6
Revises: c4f1a9e2d7b3
Create Date: 2026-12-01 03:30:00

The schema is procrastinate 3.10's own ``schema.sql``, kept as a copy next to the migrations
(``app/migrations/procrastinate_schema.sql``), so that this step creates the same objects
whichever procrastinate version is installed later. The step down drops them with every job
still queued.
"""

from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = "e7b2d4f9a1c6"
down_revision = "c4f1a9e2d7b3"
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).resolve().parent.parent / "procrastinate_schema.sql"


def upgrade():
    # run as it is (no bound parameters: a "%" of the file is doubled for the driver)
    op.get_bind().exec_driver_sql(SCHEMA.read_text(encoding="utf-8").replace("%", "%%"))


def downgrade():
    op.execute(
        """
        DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$
        DECLARE
          statement text;
        BEGIN
          FOR statement IN
            SELECT format('DROP FUNCTION %s', p.oid::regprocedure::text)
            FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND p.proname LIKE 'procrastinate\\_%'
          LOOP
            EXECUTE statement;
          END LOOP;
        END $$;
        DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status;
        """
    )
