"""The flask commands: idempotent seeding, and one clear sentence when the database is missing."""

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Company, CompanyStatus, Municipality, StaffUser, WzDivision
from app.services import accounts
from tests.conftest import test_config


def test_seed_demo_loads_the_demo_region_once(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Added 300 demo employers to Emscher-Lippe." in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 300
        published = db.session.scalar(
            select(func.count()).where(Company.status == CompanyStatus.PUBLISHED)
        )
        assert 200 < published < 300
        assert db.session.scalar(select(func.count()).select_from(Municipality)) == 12
        assert db.session.scalar(select(func.count()).select_from(WzDivision)) == 88


def test_seed_demo_tops_up_missing_entries_without_duplicates(app, runner):
    assert runner.invoke(args=["seed-demo", "--count", "20"]).exit_code == 0
    result = runner.invoke(args=["seed-demo", "--count", "25"])
    assert "Added 5 demo employers" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 25


def test_seed_demo_rejects_a_bad_count(runner):
    result = runner.invoke(args=["seed-demo", "--count", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--count'" in result.output


def test_sync_reference_reports_what_it_loaded(runner):
    result = runner.invoke(args=["sync-reference"])
    assert result.exit_code == 0, result.output
    assert "21 WZ sections, 88 WZ divisions, 10 KldB areas, 37 KldB groups" in result.output
    assert "12 municipalities" in result.output


def test_check_db(runner):
    result = runner.invoke(args=["check-db"])
    assert result.exit_code == 0, result.output
    assert "PostGIS 3" in result.output


def test_unreachable_database_gives_one_clear_sentence(tmp_path):
    app = create_app(test_config(f"postgresql://atlas@/atlas?host={tmp_path}&port=1"))
    for args in (["check-db"], ["seed-demo"], ["db", "upgrade"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, args
        assert "Cannot reach the database" in result.output, args
        assert "Traceback" not in result.output
        assert result.output.count("\n") == 1, result.output


def test_unreachable_local_database_says_how_to_start_it(tmp_path):
    app = create_app({"APP_ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code == 1
    assert "start it with `make db`" in result.output


def test_seed_demo_in_development_creates_a_demo_admin_once(database_url, tmp_path):
    app = create_app(test_config(database_url, APP_ENV="development", INSTANCE_PATH=str(tmp_path)))
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["seed-demo", "--count", "1"])
        assert first.exit_code == 0, first.output
        assert "demo-admin@kmu-atlas.invalid" in first.output
        password = (tmp_path / "demo-admin-password.txt").read_text().strip()
        assert oct((tmp_path / "demo-admin-password.txt").stat().st_mode)[-3:] == "600"
        second = runner.invoke(args=["seed-demo", "--count", "1"])
        assert second.exit_code == 0, second.output
        assert (tmp_path / "demo-admin-password.txt").read_text().strip() == password
        with app.test_request_context():
            assert accounts.authenticate("demo-admin@kmu-atlas.invalid", password).is_admin
    finally:
        with app.app_context():
            db.session.execute(db.text("TRUNCATE companies, staff_users CASCADE"))
            db.session.commit()
            db.engine.dispose()


def test_seed_demo_outside_development_creates_no_account(app, runner):
    assert runner.invoke(args=["seed-demo", "--count", "1"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_create_staff_makes_a_partner_account_of_a_named_organisation(
    app, runner, make_organisation
):
    make_organisation("Jobcenter Kommandozeile")
    missing = runner.invoke(
        args=["create-staff", "--email", "p@jc.test", "--name", "P", "--role", "partner"],
        env={"STAFF_PASSWORD": "ein sicheres Passwort 2026"},
    )
    assert missing.exit_code != 0
    assert "Partnerorganisation" in missing.output
    unknown = runner.invoke(
        args=["create-staff", "--email", "p@jc.test", "--name", "P", "--role", "partner",
              "--organisation", "Gibt es nicht"],
        env={"STAFF_PASSWORD": "ein sicheres Passwort 2026"},
    )  # fmt: skip
    assert unknown.exit_code != 0
    assert "no organisation named 'Gibt es nicht'" in unknown.output
    made = runner.invoke(
        args=["create-staff", "--email", "p@jc.test", "--name", "P", "--role", "partner",
              "--organisation", "Jobcenter Kommandozeile"],
        env={"STAFF_PASSWORD": "ein sicheres Passwort 2026"},
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    with app.app_context():
        user = accounts.by_email("p@jc.test")
        assert user.is_partner and user.organisation.name == "Jobcenter Kommandozeile"


def test_seed_demo_keeps_the_demo_password_files_working(database_url, tmp_path):
    """The files named on screen always open this database's demo accounts, also after
    another local database (e.g. another region's) wrote them."""
    app = create_app(test_config(database_url, APP_ENV="development", INSTANCE_PATH=str(tmp_path)))
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["seed-demo", "--count", "1"])
        assert first.exit_code == 0, first.output
        assert "demo-partner@kmu-atlas.invalid" in first.output
        (tmp_path / "demo-admin-password.txt").write_text("written by another database\n")
        second = runner.invoke(args=["seed-demo", "--count", "1"])
        assert second.exit_code == 0, second.output
        with app.test_request_context():
            for email, stem in (
                ("demo-admin@kmu-atlas.invalid", "demo-admin"),
                ("demo-partner@kmu-atlas.invalid", "demo-partner"),
            ):
                password = (tmp_path / f"{stem}-password.txt").read_text().strip()
                assert password != "written by another database"
                assert accounts.authenticate(email, password) is not None
            partner = accounts.by_email("demo-partner@kmu-atlas.invalid")
            assert partner.is_partner and "fiktiv" in partner.organisation.name
    finally:
        with app.app_context():
            db.session.execute(
                db.text("TRUNCATE companies, staff_users, organisations, events CASCADE")
            )
            db.session.commit()
            db.engine.dispose()
