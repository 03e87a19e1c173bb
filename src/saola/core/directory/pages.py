"""Directory pages of the staff console: agencies, administrative units, agency contacts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
