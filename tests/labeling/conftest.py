"""The console fixture (a migrated database, one user per role, a web app without a broker)."""

from tests.services.web.conftest import Console, console  # noqa: F401
