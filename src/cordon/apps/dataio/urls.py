from __future__ import annotations

from django.urls import path

from . import views

app_name = "dataio"
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.upload, name="upload"),
    path("export/<slug:kind>.<slug:fmt>", views.export, name="export"),
    path("template/<slug:kind>.csv", views.template, name="template"),
]
