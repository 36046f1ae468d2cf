"""Authorisation: one place that answers "may this user do this to that?".

Features register a policy per action (`@policy("quiz.report")`). A policy receives the user
and the target and returns True or False. Cohort roles (learner, mentor, trainer) are answered
by role providers that the cohorts feature registers; until then a user holds no cohort role.
Site admins pass every policy. Services call `require()`; routes may call `can()` to decide
what to show.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core import audit
from app.core.errors import NotAllowed

Policy = Callable[[Any, Any], bool]
RoleProvider = Callable[[Any, Any], set[str]]

_policies: dict[str, Policy] = {}
_role_providers: list[RoleProvider] = []


class AccessDenied(NotAllowed):
    """The user may not do this. Routes turn it into a 403 (or 404 where existence is secret);
    ``str(error)`` is the action's name, for logs, never shown."""

    def __init__(self, action: str, target: Any = None, *, hide: bool = False):
        super().__init__(action)
        self.action = action
        self.target = target
        self.hide = hide


def policy(action: str) -> Callable[[Policy], Policy]:
    """Register the policy function for an action name."""

    def register(func: Policy) -> Policy:
        _policies[action] = func
        return func

    return register


def register_role_provider(provider: RoleProvider) -> None:
    """Add a function that returns the roles a user holds on a target (e.g. a cohort)."""
    if provider not in _role_providers:
        _role_providers.append(provider)


def roles_on(user: Any, target: Any) -> set[str]:
    """The cohort roles ("learner", "mentor", "trainer") the user holds on the target."""
    roles: set[str] = set()
    for provider in _role_providers:
        roles |= provider(user, target)
    return roles


def has_role(user: Any, target: Any, *roles: str) -> bool:
    return bool(roles_on(user, target) & set(roles))


def is_signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can(user: Any, action: str, target: Any = None) -> bool:
    """True when the user may perform the action on the target."""
    if not is_signed_in(user):
        return False
    if getattr(user, "is_admin", False):
        return True
    check = _policies.get(action)
    if check is None:
        raise KeyError(f"no policy registered for {action!r}")
    return bool(check(user, target))


def require(user: Any, action: str, target: Any = None, *, hide: bool = False) -> None:
    """Raise AccessDenied (and audit `authz_fail`) unless the user may do this.

    With hide=True the route answers 404 instead of 403, so that the existence of another
    user's object is not revealed.
    """
    if not can(user, action, target):
        audit.record("authz_fail", actor=user if is_signed_in(user) else None,
                     target=_describe(target), attempted=action)
        raise AccessDenied(action, target, hide=hide)


def _describe(target: Any) -> str:
    if target is None:
        return ""
    ident = getattr(target, "id", None)
    return f"{type(target).__name__}:{ident}" if ident is not None else str(target)


@policy("admin.users")
def _only_admins(user: Any, target: Any) -> bool:
    return False
