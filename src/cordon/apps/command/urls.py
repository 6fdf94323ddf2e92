"""The commanders' pages: their home (the headline figures), the situation analysis, the daily-zero board."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "command"
urlpatterns = [
    path("", views.home, name="home"),
    path("analysis/", views.analysis, name="analysis"),
    path("zero/", views.zero, name="zero"),
    path("map/", views.command_map, name="map"),
]
urlpatterns += [path("timeliness/", views.timeliness_page, name="timeliness")]
