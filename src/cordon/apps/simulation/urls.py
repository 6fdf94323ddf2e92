"""The simulator pages: the runs and the form that starts one, a run, two runs side by side."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "simulation"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("compare/", views.run_compare, name="compare"),
    path("<int:run_id>/", views.run_detail, name="run"),
]
