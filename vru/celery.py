import os

from celery import Celery

from core.task_queue import set_celery_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")

app = Celery("vru")
set_celery_app(app)  # for the outbox and /metrics (core/task_queue.py)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
