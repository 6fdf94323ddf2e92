"""The commanders' pages: the situation analysis, the daily-zero board."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "command"
urlpatterns = [
    path("analysis/", views.analysis, name="analysis"),
    path("zero/", views.zero, name="zero"),
]
