"""The grid management pages, under /gridwork/ (namespace ``gridwork``)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "gridwork"

urlpatterns = [
    path("", views.post_list, name="posts"),
    path("posts/new/", views.post_new, name="post-new"),
    path("posts/<int:pk>/", views.post_detail, name="post"),
    path("posts/<int:pk>/plan/", views.post_plan, name="post-plan"),
    path("posts/<int:pk>/shifts/", views.post_shift, name="post-shift"),
    path("posts/<int:pk>/patrol/", views.patrol, name="patrol"),
    path("patrols/<int:pk>/photo/", views.patrol_photo, name="patrol-photo"),
    path("me/", views.me, name="me"),
]
