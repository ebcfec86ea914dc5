from core.errors import NotFound, ValidationFailed
from core.management.base import ServiceCommand
from partners.services import partner_get_by_slug
from sso import services
from sso.models import IdentityProvider


class Command(ServiceCommand):
    help = (
        "List the active accounts of a partner's identity provider that look like leavers: not "
        "signed in for --days, or whose refresh token the provider refuses. Only lists, unless "
        "--disable is given (docs/sso.md: the daily reconciliation)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="partner slug")
        parser.add_argument(
            "--days", type=int, default=30, help="not signed in for this many days (30)"
        )
        parser.add_argument(
            "--disable",
            action="store_true",
            help="disable them (sessions end, tokens revoked); without it, a dry run",
        )

    def run(self, *args, **options):
        partner = partner_get_by_slug(options["partner"])
        provider = IdentityProvider.objects.filter(partner=partner).first()
        if provider is None:
            raise NotFound(f"{partner.slug} has no identity provider.")
        if options["days"] < 1:
            raise ValidationFailed("--days must be 1 or more.")
        found = services.users_to_reconcile(provider=provider, inactive_days=options["days"])
        disabled = 0
        for identity, reason in found:
            user = identity.user
            if reason == "provider_unavailable":
                # Not knowing is no reason: a provider that did not answer disables nobody.
                outcome = "unchecked"
            elif options["disable"]:
                services.reconciled_user_disable(identity=identity, reason=reason)
                disabled += 1
                outcome = "disabled"
            else:
                outcome = "would disable"
            self.stdout.write(f"{outcome}\t{user.pk}\t{user.email}\t{reason}")
        mode = "" if options["disable"] else " (dry run: nothing changed; --disable to act)"
        self.stdout.write(f"{len(found)} found, {disabled} disabled{mode}.")
