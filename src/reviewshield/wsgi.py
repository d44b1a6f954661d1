import os

from django.core.wsgi import get_wsgi_application

from reviewshield.runtime import settle_heap, warm_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewshield.settings")
application = get_wsgi_application()
warm_up()
settle_heap()
