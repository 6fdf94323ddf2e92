from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("jurisdictions/", views.jurisdiction_root, name="jurisdictions"),
    path("jurisdictions/<str:code>/", views.jurisdiction_detail, name="jurisdiction"),
    path("persons/", views.person_search, name="persons"),
    path("persons/new/", views.person_create, name="person-new"),
    path("persons/<int:pk>/", views.person_detail, name="person"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("venues/", views.venue_search, name="venues"),
    path("venues/<int:pk>/", views.venue_detail, name="venue"),
    path("audit/", views.audit_recent, name="audit"),
    path("audit/access-log/", views.access_log, name="access-log"),
    path("audit/<str:kind>/<int:pk>/", views.audit_record, name="audit-record"),
]
