from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py seed_demo`: the demo partnership. At the top of the layers (docs/architecture.md),
    since it calls every app's own demo.py, and no app imports it."""

    name = "demo"
    verbose_name = "Demo partnership"
