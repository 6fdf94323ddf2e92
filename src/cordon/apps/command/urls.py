"""The commanders' pages: their home (the headline figures), the situation analysis, the daily-zero board, the
command map and the daily reports."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "command"
urlpatterns = [
    path("", views.home, name="home"),
    path("analysis/", views.analysis, name="analysis"),
    path("zero/", views.zero, name="zero"),
    path("map/", views.command_map, name="map"),
    path("reports/", views.reports, name="reports"),
    path("reports/make/", views.make_report, name="make-report"),
    path("reports/<int:report_id>/", views.report, name="report"),
    path("reports/<int:report_id>/pdf/", views.report_pdf, name="report-pdf"),
]
urlpatterns += [path("timeliness/", views.timeliness_page, name="timeliness")]
