"""Factories for the test suite (factory-boy). Every record is made through the same services the
product uses, so permissions, history, the journal and the access log are as in real use.

    PartnerFactory(slug="police", sector="police")
    UserFactory(partner=police, role=Role.MANAGER)
    PersonFactory(by=officer, family_name="Okafor", identifiers=[{"scheme": "nhs", ...}])
    CaseFactory(by=officer, summary="...", share_with=[school], subject__given_name="Tyler")
    AgreementFactory(parties=[police, school, vru])

`by` is who acts: a user, or an API client's raw token. The shorter helpers below (make_partner,
make_user, token_for, client_token, actor) are what most tests call.
"""

from __future__ import annotations

import itertools
from datetime import date

import factory

from cases import services as case_services
from cases.models import Case, DataSharingAgreement, Person
from partners.actor import Actor, actor_for_client, actor_for_user
from partners.models import ApiClient, Partner, Role, User
from partners.services import api_client_create, partner_create, personal_token_issue, user_create
from partners.tokens import hash_token

PASSWORD = "correct-horse-battery-staple"
_systems = itertools.count(1)


def actor(who, *, channel: str = "api") -> Actor:
    """A user, or an API client's raw token → the Actor the services expect."""
    if isinstance(who, str):
        return actor_for_client(ApiClient.objects.get(token_hash=hash_token(who)))
    return actor_for_user(who, channel=channel)


def ui_actor(user) -> Actor:
    return actor(user, channel="ui")


class PartnerFactory(factory.Factory):
    class Meta:
        model = Partner

    slug = factory.Sequence(lambda n: f"partner-{n}")
    name = factory.Sequence(lambda n: f"Partner {n}")
    sector = "police"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return partner_create(**kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    partner = factory.SubFactory(PartnerFactory)
    role = Role.PRACTITIONER
    email = factory.LazyAttributeSequence(lambda o, n: f"user{n}@{o.partner.slug}.example")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, **kwargs):
        return user_create(**kwargs)


class PersonFactory(factory.Factory):
    class Meta:
        model = Person

    by = None
    given_name = "Jayden"
    family_name = "Clarke"
    date_of_birth = date(2010, 3, 14)

    @classmethod
    def _create(cls, model_class, *, by, identifiers=(), **data):
        return case_services.person_create(
            actor=actor(by), data=data, identifiers=list(identifiers)
        )


class CaseFactory(factory.Factory):
    """A case led by `by`'s partner about a new person (or `subject`), shared with `share_with`
    (which needs an agreement covering them)."""

    class Meta:
        model = Case

    by = None
    subject = factory.SubFactory(PersonFactory, by=factory.SelfAttribute("..by"))

    @classmethod
    def _create(cls, model_class, *, by, subject, share_with=(), **data):
        case = case_services.case_create(actor=actor(by), subject=subject, data=data)
        for partner in share_with:
            case_services.case_share(
                actor=actor(by),
                case=case,
                partner=partner,
                lawful_basis="public_task",
                reason="Joint safeguarding",
            )
        return case


class AgreementFactory(factory.Factory):
    class Meta:
        model = DataSharingAgreement

    name = "Northshire safeguarding ISA"
    parties = ()
    review_date = date(2030, 6, 30)

    @classmethod
    def _create(cls, model_class, **kwargs):
        return case_services.agreement_create(**kwargs)


def make_partner(
    slug: str | None = None, *, sector: str = "police", name: str | None = None
) -> Partner:
    fields = {"slug": slug, "name": name}
    return PartnerFactory(sector=sector, **{k: v for k, v in fields.items() if v})


def make_user(
    partner: Partner, role: str = Role.PRACTITIONER, *, email: str | None = None, name: str = ""
) -> User:
    fields = {"email": email, "full_name": name}
    return UserFactory(partner=partner, role=role, **{k: v for k, v in fields.items() if v})


def token_for(user: User) -> str:
    return personal_token_issue(user=user)[1]


def client_token(partner: Partner, scopes: str = "read,write,sync", name: str | None = None) -> str:
    name = name or f"system-{next(_systems)}"
    return api_client_create(partner=partner, name=name, scopes=scopes)[1]
