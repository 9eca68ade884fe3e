"""Alembic environment: migrates the engine handed over by actions.db.upgrade."""

from alembic import context

from actions.db import Base, get_engine

config = context.config
engine = config.attributes.get("engine") or get_engine()


def include_object(obj, name, type_, reflected, compare_to):
    """Leave Rasa's tracker-store table alone."""
    return not (type_ == "table" and name == "events")


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
