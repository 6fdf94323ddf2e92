from __future__ import annotations

from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("check/", views.job_check, name="check"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/file/", views.job_file, name="file"),
    path("<int:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("<int:job_id>/again/", views.job_again, name="again"),
]
