"""The failed sign-ins page, in the audit area (included by the site at the root, names without a namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("audit/sign-ins/", views.sign_ins, name="sign-ins"),
    path("audit/sign-ins/unlock/", views.sign_ins_unlock, name="sign-ins-unlock"),
]
