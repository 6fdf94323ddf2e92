"""The demo's page: the administrator's exercise page (where the demo outbreak stands, and its next day)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "demo"
urlpatterns = [
    path("", views.exercise, name="exercise"),
    path("next-day/", views.next_day, name="next-day"),
]
