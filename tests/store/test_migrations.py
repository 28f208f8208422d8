from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from quizapp.store.db import make_engine
from quizapp.store.models import Base


def test_migrations_build_exactly_the_models_schema(database_url):
    """The test database was built by the migrations; the models must not differ from it."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
