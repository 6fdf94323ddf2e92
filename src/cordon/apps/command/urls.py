"""The commanders' pages: the situation analysis."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "command"
urlpatterns = [
    path("analysis/", views.analysis, name="analysis"),
    path("map/", views.command_map, name="map"),
]
