"""The API's routers, one per resource: ``meta`` (health, levels), ``positions`` (the model's move
and the legal moves of any position), ``games`` (saved games), ``analysis`` (a position's
evaluation and best lines), ``explorer`` (the opening explorer) and ``puzzles``."""

from . import analysis, explorer, games, meta, positions, puzzles

ROUTERS = (meta.router, positions.router, games.router, analysis.router, explorer.router, puzzles.router)

__all__ = ["ROUTERS"]
