"""Pages show and read times in business time (Asia/Shanghai); storage stays UTC."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_timezone(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        with timezone.override(BUSINESS_TZ):
            return get_response(request)

    return middleware
