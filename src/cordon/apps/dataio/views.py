from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cordon.apps.accounts.roles import Cap
from cordon.site.access import page


@page(Cap.EXPORT)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "error.html", {"status": 501, "message": "Import and export: not yet built."})
