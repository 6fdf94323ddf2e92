"""The shell's pages. The apps' pages are wired by ``cordon.site.urls``."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("live/badges/", views.live_badges, name="live-badges"),
]
