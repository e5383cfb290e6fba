"""aiogram routers, one module per feature, composed here in the order they must be tried."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import Chat

from config.settings import Settings
from handlers import (
    admin,
    agents,
    broadcast,
    consultations,
    consultations_admin,
    fallback,
    feedback,
    help,
    impact,
    meetings,
    onboarding,
    polls,
    privacy,
    publication,
    reports,
    settings,
    web_link,
    whoami,
)
from handlers.guards import MenuFirst, RequireRole
from notices.access import refusal as _refusal
from notices.menu import menu_entries
from participation.residents import has_current_consent
from participation.roles import Role
from storage.models import Resident


class ConsentGiven(Filter):
    """Filter: the resident accepted the current privacy notice (features need it)."""

    async def __call__(self, _event: object, resident: Resident | None = None) -> bool:
        return resident is not None and has_current_consent(resident)


class AgentsChat(Filter):
    """Filter: the update comes from the agents' group (AGENTS_CHAT_ID)."""

    async def __call__(self, event: object, settings: Settings, event_chat: Chat | None = None) -> bool:
        return settings.agents_chat_id is not None and event_chat is not None and event_chat.id == settings.agents_chat_id


def _detached(router: Router) -> Router:
    """A module's router, freed from the tree of an earlier Dispatcher.

    Module routers are singletons and aiogram lets a router have one parent; tests build one
    Dispatcher per test, so the old link is cut here rather than in every test.
    """
    parent = router.parent_router
    if parent is not None:
        parent.sub_routers.remove(router)
        router._parent_router = None
    return router


def build_root_router() -> Router:
    """The whole tree of routers. Called once per Dispatcher (routers can have one parent)."""
    root = Router(name="palabre")
    # Ids first, in any chat and before consent: an installer needs them before anything works.
    root.include_router(_detached(whoami.router))

    private = Router(name="private")
    private.message.filter(F.chat.type == "private")
    private.callback_query.filter(F.message.chat.type == "private")
    private.message.outer_middleware(MenuFirst(menu_entries, lambda raw_state: raw_state.startswith("Onboarding:")))

    # Help first, then onboarding: /start, /help and their buttons work for everyone, consent or not
    # (someone hesitating over the notice may read what the service is).
    private.include_routers(_detached(help.router), _detached(onboarding.router), _detached(privacy.router))
    # /web answers staff and residents alike (residents with a refusal), consent or not.
    private.include_router(_detached(web_link.router))

    # Everything else a resident does needs their consent; without it they fall to the
    # fallback, which takes them back to onboarding.
    features = Router(name="features")
    features.message.filter(ConsentGiven())
    features.callback_query.filter(ConsentGiven())
    features.include_routers(_detached(settings.router), _detached(consultations.router), _detached(reports.router))
    features.include_router(_detached(meetings.residents_router))
    features.include_routers(_detached(feedback.router), _detached(impact.router))
    private.include_router(features)

    admin_router = Router(name="admin")
    admin_router.message.middleware(RequireRole(Role.ADMIN, _refusal))
    admin_router.callback_query.middleware(RequireRole(Role.ADMIN, _refusal))
    admin_router.include_router(_detached(admin.router))
    private.include_router(admin_router)

    officials = Router(name="officials")
    officials.message.middleware(RequireRole(Role.OFFICIAL, _refusal))
    officials.callback_query.middleware(RequireRole(Role.OFFICIAL, _refusal))
    officials.include_routers(_detached(consultations_admin.router), _detached(broadcast.router), _detached(meetings.router))
    officials.include_router(_detached(publication.router))
    officials.include_routers(_detached(feedback.officials_router), _detached(impact.officials_router))
    private.include_router(officials)

    private.include_router(_detached(fallback.router))
    root.include_router(private)
    # Poll answers come without a chat: they are checked against the poll sent to the resident.
    root.include_router(_detached(polls.router))

    # The agents' group: report triage. Only agents and admins may use its buttons.
    group = Router(name="agents_group")
    group.message.filter(AgentsChat())
    group.callback_query.filter(AgentsChat())
    group.message.middleware(agents.GroupLocale())
    group.callback_query.middleware(agents.GroupLocale())
    group.message.middleware(RequireRole(Role.AGENT, _refusal))
    group.callback_query.middleware(RequireRole(Role.AGENT, _refusal))
    group.include_router(_detached(agents.router))
    root.include_router(group)
    return root
