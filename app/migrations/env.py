"""Alembic environment for Flask-Migrate, with GeoAlchemy2's helpers.

alembic_helpers keeps autogenerate from creating spatial indexes twice and from touching
PostGIS's own tables; the guard below keeps it from writing empty migrations.
"""

import logging
from logging.config import fileConfig

import click
from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers
from sqlalchemy.exc import OperationalError

from app.cli import database_problem

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url",
    target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)

# Tables PostGIS creates itself; they are not ours to migrate.
POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}
# Tables the database keeps itself (map index and cache, migrations 0012 and 0013): written by
# their migrations' SQL (expression indexes, triggers); the models only read them.
DATABASE_KEPT_TABLES = {"map_points", "map_cells", "map_nearby", "map_generation", "map_cache"}
# The task queue's tables (migration 0018): procrastinate's own schema, which no model maps.
TASK_QUEUE_PREFIX = "procrastinate_"
# Indexes on a collation expression, which autogenerate cannot compare (reflected as columns).
EXPRESSION_INDEXES = {"ix_companies_published_name"}


def include_object(obj, name, type_, reflected, compare_to):
    """Leave PostGIS's own tables, the database-kept tables and the task queue's alone, and
    apply GeoAlchemy2's rules."""
    if type_ == "table" and name in POSTGIS_TABLES | DATABASE_KEPT_TABLES:
        return False
    if type_ == "table" and name.startswith(TASK_QUEUE_PREFIX):
        return False
    if type_ == "index" and name in EXPRESSION_INDEXES:
        return False
    table = getattr(obj, "table", None)
    if table is not None and (
        table.name in DATABASE_KEPT_TABLES or table.name.startswith(TASK_QUEUE_PREFIX)
    ):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def skip_empty_migration(context, revision, directives):
    """Flask-Migrate's guard: autogenerate writes no file when nothing changed."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


def run_migrations_offline():
    """Emit the migrations as SQL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        include_object=include_object,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations against the configured database."""
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault(
        "process_revision_directives", alembic_helpers.writer.chain(skip_empty_migration)
    )
    try:
        connection = target_db.engine.connect()
    except OperationalError as error:
        raise click.ClickException(database_problem(error)) from None
    with connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            include_object=include_object,
            render_item=alembic_helpers.render_item,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
