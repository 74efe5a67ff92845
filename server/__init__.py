"""HTTP server: FastAPI move API, saved games (SQLAlchemy) and the web board."""

from .app import create_app, main

__all__ = ["create_app", "main"]
