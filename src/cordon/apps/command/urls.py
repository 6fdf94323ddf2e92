"""The commanders' pages: their home (the headline figures) and the situation analysis."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "command"
urlpatterns = [
    path("", views.home, name="home"),
    path("analysis/", views.analysis, name="analysis"),
]
urlpatterns += [path("timeliness/", views.timeliness_page, name="timeliness")]
