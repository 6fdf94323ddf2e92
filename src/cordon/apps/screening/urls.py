from __future__ import annotations

from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.rounds, name="rounds"),
    path("rounds/new/", views.round_new, name="round-new"),
    path("rounds/new/target/", views.round_target, name="round-target"),
    path("rounds/<str:code>/", views.round_detail, name="round"),
    path("rounds/<str:code>/close/", views.round_close, name="round-close"),
    path("rounds/<str:code>/recount/", views.round_recount, name="round-recount"),
    path("rounds/<str:code>/sites/", views.site_new, name="site-new"),
    path("rounds/<str:code>/coverage/", views.coverage, name="coverage"),
    path("sites/<int:pk>/tubes/", views.tubes_issue, name="tubes-issue"),
    path("sites/<int:pk>/station/", views.station, name="station"),
    path("sites/<int:pk>/station/bind/", views.station_bind, name="station-bind"),
    path("sites/<int:pk>/station/seal/", views.station_seal, name="station-seal"),
    path("sites/<int:pk>/station/queue/", views.station_queue, name="station-queue"),
    path("lab/", views.lab, name="lab"),
    path("lab/submit/", views.lab_submit, name="lab-submit"),
    path("alerts/", views.alerts, name="alerts"),
    path("key-industries/", views.overdue, name="overdue"),
]
