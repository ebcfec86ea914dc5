from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "programmes"
    verbose_name = "Programmes and intake"

    def ready(self):
        from cases.signals import eligibility_facts_changed
        from programmes.services import eligibility_refresh

        eligibility_facts_changed.connect(eligibility_refresh, dispatch_uid="programmes")
