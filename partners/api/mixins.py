"""The base of every app's API views: they act for the request's actor (partners.actor)."""

from __future__ import annotations

from functools import cached_property

from partners.actor import Actor, request_actor


class ActorMixin:
    """Views act for `self.actor`: resolved once per request and passed to selectors and services."""

    @cached_property
    def actor(self) -> Actor:
        return request_actor(self.request)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["actor"] = self.actor
        return context


class VisibleListMixin(ActorMixin):
    """List views define `visible_queryset()`; schema generation (no request) gets an empty one."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.visible_queryset()

    def visible_queryset(self):  # pragma: no cover - each view defines it
        raise NotImplementedError
