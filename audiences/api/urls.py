"""People API routes (/api/v1/): profiles and audiences."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from audiences.api import audience_urls, profile_urls

urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns += profile_urls.urlpatterns
urlpatterns += audience_urls.urlpatterns
