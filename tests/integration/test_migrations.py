"""The migrations build the schema on an empty database, match the models, and go back down."""

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from tests.conftest import recreate_database, test_config, test_database_url


@pytest.fixture
def empty_database_app():
    url = test_database_url()
    url = url.set(database=f"{url.database}_migrations")
    recreate_database(url)
    app = create_app(test_config(url.render_as_string(hide_password=False)))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_migrations_apply_on_an_empty_database_without_drift(empty_database_app):
    with empty_database_app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"companies", "municipalities", "wz_divisions", "kldb_groups"} <= tables
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("companies")}
        assert {"idx_companies_location", "ix_companies_location_geography"} <= indexes
        # `flask db check`: autogenerate finds no difference between models and schema.
        flask_migrate.check()


def test_check_notices_drift(empty_database_app):
    with empty_database_app.app_context():
        flask_migrate.upgrade()
        db.session.execute(text("ALTER TABLE companies DROP COLUMN phone"))
        db.session.commit()
        # Flask-Migrate reports the difference and exits with status 1, as `flask db check` does.
        with pytest.raises(SystemExit) as exited:
            flask_migrate.check()
        assert exited.value.code == 1


def test_migrations_go_down_and_up_again(empty_database_app):
    with empty_database_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert "companies" not in inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        assert "companies" in inspect(db.engine).get_table_names()
