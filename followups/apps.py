from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"

    def ready(self) -> None:
        from core.metrics import register_state
        from followups import metrics

        register_state(metrics.outbox_state)
        register_state(metrics.followups_overdue)
