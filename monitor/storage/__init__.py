"""Persistence: SQLAlchemy tables, engine creation (SQLite or PostgreSQL) and migrations."""
