"""The API's routers, one per resource: ``meta`` (health, levels), ``positions`` (the model's move
and the legal moves of any position), ``games`` (saved games) and ``analysis`` (a position's
evaluation and best lines)."""

from . import analysis, games, meta, positions

ROUTERS = (meta.router, positions.router, games.router, analysis.router)

__all__ = ["ROUTERS"]
