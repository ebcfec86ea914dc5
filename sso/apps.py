from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from sso import signals  # noqa: F401  (revokes a leaver's tokens however they are disabled)
