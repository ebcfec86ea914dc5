from django.apps import AppConfig


class WellbeingConfig(AppConfig):
    name = "wellbeing"
    verbose_name = "Staff wellbeing and supervision"
