import os

from django.core.wsgi import get_wsgi_application

from reviewshield.runtime import settle_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewshield.settings")
application = get_wsgi_application()
settle_heap()
