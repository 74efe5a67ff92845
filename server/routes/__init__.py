"""The API's routers, one per resource: ``meta`` (health, levels), ``positions`` (the model's move
and the legal moves of any position), ``games`` (saved games), ``analysis`` (a position's
evaluation and best lines) and ``explorer`` (the opening explorer)."""

from . import analysis, explorer, games, meta, positions

ROUTERS = (meta.router, positions.router, games.router, analysis.router, explorer.router)

__all__ = ["ROUTERS"]
