"""Simulcast: one channel, every screen on the same frame."""

from .app import create_app

__all__ = ["create_app"]
