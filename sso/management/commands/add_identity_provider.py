from django.conf import settings
from django.urls import reverse

from core.management.base import ServiceCommand
from partners.models import Role
from partners.services import partner_get_by_slug
from sso.services import provider_create


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class Command(ServiceCommand):
    help = "Add a partner's own OpenID Connect identity provider (docs/sso.md)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="partner slug")
        parser.add_argument("--issuer", required=True, help="issuer URL, exactly as discovery says")
        parser.add_argument("--client-id", required=True)
        secret = parser.add_mutually_exclusive_group(required=True)
        secret.add_argument("--secret-env", default="", help="environment variable with the secret")
        secret.add_argument("--secret-file", default="", help="file holding the client secret")
        parser.add_argument("--domains", required=True, help="email domains, comma-separated")
        parser.add_argument("--create-users", action="store_true")
        parser.add_argument("--default-role", default=Role.PRACTITIONER)
        parser.add_argument("--mfa-amr", default="", help="amr values meaning MFA, e.g. mfa,otp")
        parser.add_argument("--mfa-acr", default="", help="the acr value meaning MFA")
        parser.add_argument(
            "--back-channel-logout",
            action="store_true",
            help="the provider sends back-channel logout tokens (leavers signed out at once)",
        )
        parser.add_argument(
            "--refresh-minutes",
            type=int,
            default=15,
            help="refresh signed-in people's tokens this often; a refusal signs them out (0: off)",
        )
        parser.add_argument(
            "--offline-access",
            action="store_true",
            help="ask for the offline_access scope (Entra ID issues refresh tokens only then)",
        )

    def run(self, *args, **options):
        provider = provider_create(
            partner=partner_get_by_slug(options["partner"]),
            issuer=options["issuer"],
            client_id=options["client_id"],
            domains=_list(options["domains"]),
            secret_env=options["secret_env"],
            secret_file=options["secret_file"],
            create_users=options["create_users"],
            default_role=options["default_role"],
            mfa_amr=_list(options["mfa_amr"]),
            mfa_acr=options["mfa_acr"],
            backchannel_logout=options["back_channel_logout"],
            refresh_minutes=options["refresh_minutes"],
            offline_access=options["offline_access"],
        )
        domains = ", ".join(provider.domains.values_list("domain", flat=True))
        self.stdout.write(f"Added the identity provider of {provider.partner.slug} for {domains}.")
        if provider.backchannel_logout:
            path = reverse("sso:back-channel-logout", args=[provider.partner.slug])
            self.stdout.write(
                f"Back-channel logout URI to register there: {settings.SITE_URL}{path}"
            )
