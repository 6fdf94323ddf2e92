"""The jurisdiction pages, included by the site at the root (URL names without a namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("jurisdictions/", views.jurisdiction_root, name="jurisdictions"),
    path("jurisdictions/outlines.geojson", views.jurisdiction_outlines, name="jurisdiction-outlines"),
    path("jurisdictions/<str:code>/", views.jurisdiction_detail, name="jurisdiction"),
]
