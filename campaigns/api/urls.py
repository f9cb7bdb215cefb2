"""Management API routes (/api/v1/)."""

from __future__ import annotations

urlpatterns: list = []
