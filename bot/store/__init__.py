"""Storage: the only place with SQL. Every stage hands its results over through `Store`."""

from bot.store.engine import StoreConflict
from bot.store.sources import is_failing
from bot.store.store import Store

__all__ = ["Store", "StoreConflict", "is_failing"]
