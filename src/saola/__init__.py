"""Saola: an open smart-city operations platform."""

__version__ = "0.1.0"
