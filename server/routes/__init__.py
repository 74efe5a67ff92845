"""The API's routers, one per resource: ``meta`` (health, levels), ``positions`` (the model's move
and the legal moves of any position) and ``games`` (saved games)."""

from . import games, meta, positions

ROUTERS = (meta.router, positions.router, games.router)

__all__ = ["ROUTERS"]
