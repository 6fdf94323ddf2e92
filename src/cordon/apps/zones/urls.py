from __future__ import annotations

from django.urls import path

from . import views

app_name = "zones"
urlpatterns = [
    path("", views.zone_list, name="zones"),
    path("new/", views.zone_new, name="zone-new"),
    path("proposals/", views.proposals, name="proposals"),
    path("evaluate/", views.evaluate, name="evaluate"),
    path("transitions/<int:pk>/decide/", views.decide, name="decide"),
    path("<str:code>/", views.zone_detail, name="zone"),
    path("<str:code>/step/", views.zone_step, name="step"),
    path("<str:code>/screen/", views.screen, name="screen"),
]
