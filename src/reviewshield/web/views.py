"""Pages. The portals (buyer, seller, agent) arrive with their own issue; this is the front door."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")
