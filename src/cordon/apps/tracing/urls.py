from __future__ import annotations

from django.urls import path

from . import views

app_name = "tracing"
urlpatterns = [
    path("cases/", views.case_list, name="cases"),
    path("cases/new/", views.case_new, name="case-new"),
    path("contacts/", views.contact_list, name="contacts"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/trace/", views.case_trace, name="case-trace"),
    path("cases/trace-untraced/", views.cases_trace_untraced, name="cases-trace-untraced"),
    path("cases/<int:pk>/decide/", views.case_decide, name="case-decide"),
    path("cases/<int:pk>/trajectory/", views.case_trajectory, name="case-trajectory"),
    path("cases/<int:pk>/autofill/", views.case_autofill, name="case-autofill"),
    path("cases/<int:pk>/investigation/", views.case_investigation, name="case-investigation"),
    path("cases/<int:pk>/cluster/", views.case_cluster, name="case-cluster"),
    path("linkage/", views.linkage_inbox, name="linkage"),
    path("linkage/acknowledge/", views.linkage_ack, name="linkage-ack"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<str:code>/", views.cluster_detail, name="cluster"),
    path("clusters/<str:code>/merge/", views.cluster_merge, name="cluster-merge"),
    path("risk-venues/", views.risk_venue_list, name="risk-venues"),
    path("scans/", views.scan_upload, name="scans"),
]
