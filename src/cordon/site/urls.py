from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from cordon.apps.web import views as web_views

from .api import api

# Each app serves its own pages. The register, venue, jurisdiction and audit pages are included at the root
# without a namespace, so their URL names ("person", "venue", "jurisdiction", "audit-record", ...) stay as
# they were when the web app held them.
urlpatterns = [
    path("", include("cordon.apps.web.urls")),
    path("", include("cordon.apps.people.urls")),
    path("", include("cordon.apps.venues.urls")),
    path("", include("cordon.apps.geo.urls")),
    path("", include("cordon.apps.audit.urls")),
    path("", include("cordon.apps.accounts.urls")),
    path("data/", include("cordon.apps.dataio.urls")),
    path("tracing/", include("cordon.apps.tracing.urls")),
    path("control/", include("cordon.apps.control.urls")),
    path("screening/", include("cordon.apps.screening.urls")),
    path("zones/", include("cordon.apps.zones.urls")),
    path("gridwork/", include("cordon.apps.gridwork.urls")),
    path("jobs/", include("cordon.apps.jobs.urls")),
    path("demo/", include("cordon.apps.demo.urls")),
    path("simulation/", include("cordon.apps.simulation.urls")),
    path("command/", include("cordon.apps.command.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", web_views.set_language, name="set_language"),
]

handler400 = "cordon.apps.web.views.bad_request"
handler403 = "cordon.apps.web.views.permission_denied"
handler404 = "cordon.apps.web.views.page_not_found"
handler500 = "cordon.apps.web.views.server_error"
