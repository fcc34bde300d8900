"""SQLAlchemy models, engine factory, queries and Alembic migrations."""
