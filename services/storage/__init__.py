"""State: the database (sqlmodel, migrations by Alembic) and the content-addressed blob store."""
