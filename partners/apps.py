from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners and accounts"

    def ready(self):
        from partners.api import schema  # noqa: F401  (registers the OpenAPI auth extensions)
