"""The venue pages, included by the site at the root (URL names without a namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("venues/", views.venue_search, name="venues"),
    path("venues/<int:pk>/", views.venue_detail, name="venue"),
]
