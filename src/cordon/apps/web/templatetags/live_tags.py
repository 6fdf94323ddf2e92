"""``{% live_region "linkage-live" version %}``: the attributes that make an element a live region (see
``cordon.core.live``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html

from cordon.core.live import poll_url

register = template.Library()


@register.simple_tag(takes_context=True)
def live_region(context: Any, region_id: str, version: str) -> str:
    seconds = int(settings.CORDON_LIVE_SECONDS)
    return format_html(
        'id="{}" data-live="{}" hx-get="{}" hx-select="#{}" hx-swap="outerHTML" '
        "hx-trigger=\"every {}s [!document.querySelector('#{} input:checked')]\"",
        region_id,
        version,
        poll_url(context["request"], version),
        region_id,
        seconds,
        region_id,
    )
