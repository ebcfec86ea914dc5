from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import log_filters, metrics, request_id

        log_filters.install()
        # In a worker: task ids on log lines, task failures counted for /metrics.
        request_id.connect_task_signals()
        metrics.connect_task_signals()
