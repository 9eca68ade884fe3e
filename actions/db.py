"""Database access: SQLAlchemy 2 models of the app's own tables and sessions.

The database is `DATABASE_URL` (SQLite file under var/ by default, PostgreSQL in
docker-compose). Rasa's tracker store keeps its `events` table in the same
database; the schema of everything else is owned by the Alembic migrations in
`actions/migrations`. Run `python -m actions.db upgrade` to bring it up to date.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from settings import current as current_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Car(Base):
    """A car of the catalog. Cars missing from the last snapshot stay, unavailable."""

    __tablename__ = "cars"

    stock_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    make: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(Integer)
    km: Mapped[int] = mapped_column(Integer)
    bluetooth: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    carplay: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    largo: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    ancho: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    altura: Mapped[Optional[float]] = mapped_column(Float, nullable=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    description_hash: Mapped[str] = mapped_column(String(64), default="")
    embedding: Mapped[Optional[bytes]] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Appointment(Base):
    """A visit booked by a customer (the WhatsApp sender) to see a car."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(120))
    stock_id: Mapped[str] = mapped_column(ForeignKey("cars.stock_id"))
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(16), default="booked", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reminder_day_before_sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    reminder_hours_before_sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set while a reminder is being sent; a claim older than the send timeout is a dead sender's.
    reminder_claimed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)


class Rating(Base):
    """A 1-5 satisfaction score (MSAT) given at the end of a conversation."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[int] = mapped_column(Integer)
    topics: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A low score offers a human follow-up; True when the customer accepted it.
    follow_up_requested: Mapped[bool] = mapped_column(Boolean, default=False)


class Handoff(Base):
    """A customer handed to a person (actions/handoff/): held until staff hand it back or it times out.

    The same table is read by the channels (channels/holds.py) to keep the assistant quiet.
    """

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # asked, offered (after misunderstandings or a complaint)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open, closed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")  # what staff need to act: name, car, plan, visit
    customer_told: Mapped[bool] = mapped_column(Boolean, default=False)  # "a person will reply", said once
    first_reply_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    last_activity_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_reason: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)  # staff, timeout


class HandoffMessage(Base):
    """A message of a held conversation: the customer's (kept for staff), staff's or the assistant's."""

    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # customer, staff, assistant
    text: Mapped[str] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=True)  # False: not a WhatsApp customer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OptOut(Base):
    """A number that asked for no messages started by the business (BAJA); ALTA removes it."""

    __tablename__ = "opt_outs"

    sender_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DataDeletion(Base):
    """That a customer's data was deleted, and how much: never whose."""

    __tablename__ = "data_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    events: Mapped[int] = mapped_column(Integer)
    appointments: Mapped[int] = mapped_column(Integer)
    ratings: Mapped[int] = mapped_column(Integer)


class ProcessedMessage(Base):
    """A WhatsApp message id already handled, so Twilio's retries are answered once."""

    __tablename__ = "processed_messages"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)


def database_url() -> str:
    """The configured database URL."""
    return current_settings().database_url


def get_engine(url: Optional[str] = None) -> Engine:
    """The engine of `url`, or of DATABASE_URL as it is now."""
    return _engine(url or database_url())


@lru_cache(maxsize=None)
def _engine(url: str) -> Engine:
    """One engine per URL; SQLite gets WAL mode and a busy timeout for two processes."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=None)
def _sessions(engine: Engine) -> sessionmaker:
    """One session factory per engine (each sessionmaker builds a new Session class)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = _sessions(get_engine(url))()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(url: Optional[str] = None) -> None:
    """Apply every Alembic migration to the database."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(url)
    command.upgrade(config, "head")


if __name__ == "__main__":
    if sys.argv[1:] != ["upgrade"]:
        sys.exit("Uso: python -m actions.db upgrade")
    upgrade()
    print(f"Base de datos al día: {database_url()}")
