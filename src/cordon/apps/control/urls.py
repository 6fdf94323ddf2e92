from __future__ import annotations

from django.urls import path

from . import views

app_name = "control"
urlpatterns = [
    path("", views.board, name="board"),
    path("clocks/", views.clocks, name="clocks"),
    path("queue/", views.queue, name="queue"),
    path("allocate/", views.allocate, name="allocate"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/new/", views.transfer_new, name="transfer-new"),
    path("transfers/<int:pk>/status/", views.transfer_status, name="transfer-status"),
    path("transfers/members/<int:pk>/fail/", views.member_fail, name="member-fail"),
    path("orders/", views.order_list, name="orders"),
    path("orders/bulk/", views.orders_bulk, name="orders-bulk"),
    path("orders/pdf/", views.orders_pdf, name="orders-pdf"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/order.pdf", views.order_pdf, name="order-pdf"),
    path("orders/<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate-pdf"),
    path("orders/<int:pk>/health/", views.order_health, name="order-health"),
    path("orders/<int:pk>/extend/", views.order_extend, name="order-extend"),
    path("health/<int:pk>/handle/", views.alert_handle, name="alert-handle"),
    path("samples/<int:pk>/result/", views.sample_result, name="sample-result"),
    path("samples/taken/", views.samples_taken, name="samples-taken"),
    path("follow-up/", views.follow_up, name="follow-up"),
    path("homes/", views.homes, name="homes"),
    path("sites/", views.site_list, name="sites"),
    path("sites/new/", views.site_new, name="site-new"),
    path("sites/<str:code>/", views.site_detail, name="site"),
    path("sites/<str:code>/rooms/", views.site_rooms, name="site-rooms"),
    path("rooms/<int:pk>/status/", views.room_status, name="room-status"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/<str:applies_to>/edit/", views.plan_edit, name="plan-edit"),
]
