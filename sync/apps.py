from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from core.metrics import register_state
        from sync import metrics

        register_state(metrics.webhooks_state)
