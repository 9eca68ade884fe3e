"""The makes and models of the live catalog, read from its database for the Rasa server.

The NLU component needs the catalog's names (so a car added by `make catalog` is
understood without retraining) but not the catalog itself: this reads the distinct
(make, model) pairs of the `cars` table, sold cars included, and reads them again
when the table changes (checked at most every `CHECK_SECONDS`). SQLAlchemy Core
only, so it runs on the Rasa environment's SQLAlchemy 1.4 as on 2.x. When the
database cannot be read, the well-known names of `known_cars` still work.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Optional, Tuple

import sqlalchemy as sa

from settings import current as current_settings
from understanding.names import Vocabulary, vocabulary

logger = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
_VERSION = sa.text("SELECT count(*), max(updated_at) FROM cars")
_NAMES = sa.text("SELECT DISTINCT make, model FROM cars")


class CatalogNames:
    """The vocabulary of one database's catalog, kept up to date."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Optional[sa.engine.Engine] = None
        self._lock = threading.Lock()
        self._version: Optional[tuple] = None
        self._names: Tuple[Tuple[str, str], ...] = ()
        self._checked = float("-inf")
        self._failed = False

    def vocabulary(self) -> Vocabulary:
        """The vocabulary of the catalog as it is now (at most CHECK_SECONDS old)."""
        with self._lock:
            if time.monotonic() - self._checked >= CHECK_SECONDS:
                self._checked = time.monotonic()
                self._refresh()
            return vocabulary(self._names)

    def _refresh(self) -> None:
        try:
            if self._engine is None:
                self._engine = sa.create_engine(self.url, pool_pre_ping=True)
            with self._engine.connect() as connection:
                version = tuple(connection.execute(_VERSION).one())
                if version != self._version:
                    rows = connection.execute(_NAMES).all()
                    self._names = tuple(sorted((str(make), str(model)) for make, model in rows if make and model))
                    self._version = version
            self._failed = False
        except Exception as error:  # no table yet, database down: known names only
            if not self._failed:
                logger.warning("No pude leer los nombres del catálogo (%s); uso solo los conocidos", error)
            self._failed = True


_by_url: dict = {}


def catalog_names(url: Optional[str] = None) -> CatalogNames:
    """The shared reader of `url` (default: DATABASE_URL)."""
    url = url or current_settings().database_url
    if url not in _by_url:
        _by_url[url] = CatalogNames(url)
    return _by_url[url]
