"""Extension singletons, initialised in the app factory, so nothing imports the app object."""

from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
# Storage from RATELIMIT_STORAGE_URI: memory:// counts per process, so several workers need
# Redis (redis://...).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class StaffLoginManager(LoginManager):
    """Flask-Login's manager, protecting only sessions that carry a signed-in user.

    A visitor's session holds no user, only a CSRF token; "strong" protection would find it
    without the identifier of a sign-in and rewrite it on every page (and the page would set
    the cookie again, so no cache could keep it: see :mod:`app.cache_policy`).
    """

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


login_manager = StaffLoginManager()
# "strong": a session cookie used from another browser or address is dropped at once.
login_manager.session_protection = "strong"
