"""Who is acting: resolved once per request (user or API client, its partner and role), passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from partners.models import ApiClient, Partner, PersonalToken, Scope, User

USER_SCOPES = frozenset({Scope.READ, Scope.WRITE, Scope.SYNC})


@dataclass(frozen=True)
class Actor:
    partner: Partner
    role: str | None
    user: User | None = None
    client: ApiClient | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    channel: str = "api"  # ui, api or sync: recorded in the access log

    @property
    def kind(self) -> str:
        return "client" if self.client else "user"

    @property
    def label(self) -> str:
        return self.client.name if self.client else self.user.email

    @property
    def is_client(self) -> bool:
        return self.client is not None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def via(self, channel: str) -> Actor:
        return Actor(self.partner, self.role, self.user, self.client, self.scopes, channel)


def actor_for_user(user: User, *, channel: str = "ui") -> Actor | None:
    """A user acts only with an active membership of an active partner."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        membership = user.membership
    except User.membership.RelatedObjectDoesNotExist:
        return None
    if not membership.partner.active:
        return None
    return Actor(
        membership.partner, membership.role, user=user, scopes=USER_SCOPES, channel=channel
    )


def actor_for_client(client: ApiClient) -> Actor | None:
    if not client.usable:
        return None
    # A partner system reads and writes like a practitioner of its partner; scopes narrow it.
    return Actor(
        client.partner, None, client=client, scopes=frozenset(client.scopes), channel="api"
    )


def request_actor(request) -> Actor | None:
    """The actor for a DRF or Django request, cached on the request."""
    cached = getattr(request, "_vru_actor", False)
    if cached is not False:
        return cached
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiClient):
        actor = actor_for_client(auth)
    elif isinstance(auth, PersonalToken):
        actor = actor_for_user(auth.user, channel="api")
    else:
        user = getattr(request, "user", None)
        channel = "api" if request.path.startswith("/api/") else "ui"
        actor = actor_for_user(user, channel=channel) if user is not None else None
    request._vru_actor = actor
    return actor
