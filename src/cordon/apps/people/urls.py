"""The register pages, included by the site at the root (URL names without a namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("persons/", views.person_search, name="persons"),
    path("persons/new/", views.person_create, name="person-new"),
    path("persons/<int:pk>/", views.person_detail, name="person"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person-edit"),
]
