"""The audit pages, included by the site at the root (URL names without a namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.audit_recent, name="audit"),
    path("audit/access-log/", views.access_log, name="access-log"),
    path("audit/read-alerts/", views.read_alerts, name="read-alerts"),
    path("audit/<str:kind>/<int:pk>/", views.audit_record, name="audit-record"),
]
