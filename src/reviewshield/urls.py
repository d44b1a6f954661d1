from django.contrib import admin
from django.urls import include, path

from reviewshield.api.site import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("reviewshield.web.urls")),
]
