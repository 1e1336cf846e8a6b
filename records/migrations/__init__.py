"""Alembic migrations of the records database: `env.py` and one module per revision in `versions/`."""
