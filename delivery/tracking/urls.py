"""Public routes of tracking and unsubscribe links (short on purpose: they are in every message)."""

from __future__ import annotations

from django.urls import path

from delivery.tracking import views

urlpatterns = [
    path("t/o/<str:token>", views.open_pixel, name="tracking-open"),
    path("t/c/<str:token>", views.click_redirect, name="tracking-click"),
    # SMS: "/s/" and a 9-character code, 12 characters after the host.
    path("s/<str:code>", views.short_redirect, name="tracking-short"),
    path("u/<str:token>", views.unsubscribe_page, name="unsubscribe"),
]
