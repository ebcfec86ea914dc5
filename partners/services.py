"""Writes for partners and accounts. Each service is one transaction and enforces one rule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from partners.models import (
    ApiClient,
    Membership,
    MembershipChange,
    Partner,
    PersonalToken,
    PractitionerProfile,
    Role,
    Scope,
    Sector,
    User,
)
from partners.tokens import CLIENT_PREFIX, PERSONAL_PREFIX, display_prefix, hash_token, new_token


def partner_get_by_slug(slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None:
        raise NotFound(f"There is no partner with slug '{slug}'.")
    return partner


@transaction.atomic
def partner_create(*, slug: str, name: str, sector: str) -> Partner:
    """A partner gets its own Django group: case access is granted to the group."""
    if sector not in Sector.values:
        raise ValidationFailed(
            f"'{sector}' is not a sector; use one of: {', '.join(Sector.values)}.",
            fields={"sector": ["invalid"]},
        )
    if not slug or slugify(slug) != slug:
        raise ValidationFailed(
            f"'{slug}' is not a valid slug (lowercase letters, digits and hyphens)."
        )
    if not name.strip():
        raise ValidationFailed("A partner needs a name.")
    if Partner.objects.filter(slug=slug).exists():
        raise Conflict(f"A partner with slug '{slug}' already exists.")
    group = Group.objects.create(name=f"partner:{slug}")
    return Partner.objects.create(slug=slug, name=name.strip(), sector=sector, group=group)


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationFailed(f"'{role}' is not a role; use one of: {', '.join(Role.values)}.")


def _refuse_own_membership(*, user: User, changed_by: User | None) -> None:
    if changed_by is not None and changed_by.pk == user.pk:
        raise Forbidden(
            "You cannot change your own role or partner. Ask another administrator to do it.",
            code="own_membership",
        )


@transaction.atomic
def user_create(
    *,
    partner: Partner,
    role: str,
    email: str,
    password: str | None = None,
    full_name: str = "",
    channel: str = "command",
) -> User:
    """One membership per user; the user joins the partner's group. The membership is appended to
    the membership change log (with no `changed_by`: this is the command-line path)."""
    _check_role(role)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(f"'{email}' is not a valid email address.") from None
    if User.objects.filter(email=email).exists():
        raise Conflict(f"A user with email '{email}' already exists.")
    if password:
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as exc:
            raise ValidationFailed("The password is too weak: " + " ".join(exc.messages)) from None
    user = User.objects.create_user(
        email,
        password,
        full_name=full_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    Membership.objects.create(user=user, partner=partner, role=role)
    PractitionerProfile.objects.create(user=user)
    user.groups.add(partner.group)
    MembershipChange.objects.create(user=user, new_partner=partner, new_role=role, channel=channel)
    return user


@transaction.atomic
def membership_change(
    *, user: User, partner: Partner, role: str, changed_by: User | None, channel: str
) -> Membership:
    """Set a user's one membership (partner and role), creating it if there is none.

    Nobody changes their own partner or role, whatever the channel (403): an administrator could
    otherwise make themselves a manager somewhere and read that partner's cases. Every change is
    appended to the membership change log in the same transaction, and the managers of the old and
    the new partner are told. Group membership follows the partner; the Django admin flags follow
    the admin role when the role moves to or from it.
    """
    _check_role(role)
    _refuse_own_membership(user=user, changed_by=changed_by)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
    membership = Membership.objects.filter(user=user).select_related("partner").first()
    old_partner = membership.partner if membership else None
    old_role = membership.role if membership else ""
    if old_partner == partner and old_role == role:
        return membership
    if membership is None:
        membership = Membership.objects.create(user=user, partner=partner, role=role)
    else:
        Membership.objects.filter(pk=membership.pk).update(partner=partner, role=role)
        membership.partner, membership.role = partner, role
    if old_partner != partner:
        user.groups.remove(*user.groups.filter(partner__isnull=False).exclude(pk=partner.group_id))
        user.groups.add(partner.group)
    if (old_role == Role.ADMIN) != (role == Role.ADMIN):
        admin = role == Role.ADMIN
        User.objects.filter(pk=user.pk).update(is_staff=admin, is_superuser=admin)
        user.is_staff = user.is_superuser = admin
    change = MembershipChange.objects.create(
        changed_by=changed_by,
        user=user,
        old_partner=old_partner,
        old_role=old_role,
        new_partner=partner,
        new_role=role,
        channel=channel,
    )
    _notify_membership_change(change)
    return membership


MEMBERSHIP_CHANGE_TITLE = "A staff account's role or partner was changed"


def _notify_membership_change(change: MembershipChange) -> None:
    """The managers of the partners involved hear of it. The title names nobody (it is emailed);
    the link is their staff page."""
    from followups.services import notify

    partners = {change.new_partner_id, change.old_partner_id} - {None}
    managers = User.objects.filter(
        is_active=True, membership__partner_id__in=partners, membership__role=Role.MANAGER
    )
    notify(
        recipients=managers,
        kind="membership_changed",
        title=MEMBERSHIP_CHANGE_TITLE,
        link="/manager/staff/",
        dedupe_key=f"membership-change:{change.pk}",
    )


@transaction.atomic
def user_disable(*, user: User) -> None:
    """A disabled account loses its sessions and tokens at once."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    PersonalToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    user_sessions_end(user=user)


def user_sessions_end(*, user: User) -> int:
    """Delete the user's sessions. Sessions are only indexed by key, so this scans live ones."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def personal_token_issue(
    *, user: User, name: str = "", lifetime_days: int | None = None
) -> tuple[PersonalToken, str]:
    """Returns the record and the token; the token is shown once and only its hash is kept."""
    if not user.is_active:
        raise Conflict("This account is disabled.")
    days = lifetime_days or settings.PERSONAL_TOKEN_LIFETIME_DAYS
    token = new_token(PERSONAL_PREFIX)
    record = PersonalToken.objects.create(
        user=user,
        name=name,
        token_hash=hash_token(token),
        token_prefix=display_prefix(token),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return record, token


def personal_token_revoke(*, token: PersonalToken) -> None:
    PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def parse_scopes(raw: str | Iterable[str]) -> list[str]:
    items = [s.strip() for s in raw.split(",")] if isinstance(raw, str) else list(raw)
    items = [s for s in items if s]
    unknown = sorted(set(items) - set(Scope.values))
    if unknown or not items:
        raise ValidationFailed(
            f"Unknown scope(s): {', '.join(unknown) or '(none given)'}; use some of: {', '.join(Scope.values)}."
        )
    return sorted(set(items), key=Scope.values.index)


@transaction.atomic
def api_client_create(
    *, partner: Partner, name: str, scopes: Iterable[str]
) -> tuple[ApiClient, str]:
    """A partner system's identity. Its token is returned once; only the hash is stored."""
    if not name.strip():
        raise ValidationFailed("An API client needs a name.")
    if ApiClient.objects.filter(partner=partner, name=name).exists():
        raise Conflict(f"Partner '{partner.slug}' already has an API client called '{name}'.")
    token = new_token(CLIENT_PREFIX)
    client = ApiClient.objects.create(
        partner=partner,
        name=name.strip(),
        scopes=parse_scopes(scopes),
        token_hash=hash_token(token),
        token_prefix=display_prefix(token),
    )
    return client, token


def api_client_revoke(*, client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), active=False
    )
