"""Roles as data: which actions each role may take, and the one check services call first.

``ROLE_ACTIONS`` is the table (the isolation-matrix tests read it too). Staff users are
operators: every action on every tenant. A member's role in a tenant is
:class:`console.models.Role`. An action names an entity and a verb
(``service_account.manage``); viewing a tenant's resources is ``<entity>.view``.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # operators only: the cluster-wide and commercial side
    TENANT_CREATE = "tenant.create"
    TENANT_DELETE = "tenant.delete"
    PLAN_VIEW = "plan.view"  # plans are the commercial side: operators only (issue 10)
    PLAN_MANAGE = "plan.manage"
    QUOTA_MANAGE = "quota.manage"
    CLUSTER_VIEW = "cluster.view"  # every ACL and SCRAM user, topics outside any prefix
    # inside a tenant
    TENANT_VIEW = "tenant.view"
    MEMBER_VIEW = "member.view"
    MEMBER_MANAGE = "member.manage"
    SERVICE_ACCOUNT_VIEW = "service_account.view"
    SERVICE_ACCOUNT_MANAGE = "service_account.manage"  # create, rotate, revoke
    ACCESS_RULE_VIEW = "access_rule.view"
    ACCESS_RULE_MANAGE = "access_rule.manage"
    DRIFT_RESOLVE = "drift.resolve"  # re-apply or adopt
    TOPIC_VIEW = "topic.view"
    TOPIC_MANAGE = "topic.manage"  # create, configure, delete
    GROUP_VIEW = "group.view"
    GROUP_MANAGE = "group.manage"
    MESSAGE_VIEW = "message.view"
    MESSAGE_PRODUCE = "message.produce"
    QUOTA_VIEW = "quota.view"
    AUDIT_VIEW = "audit.view"


OPERATOR = "operator"

_VIEW = frozenset(
    {
        Action.TENANT_VIEW,
        Action.MEMBER_VIEW,
        Action.SERVICE_ACCOUNT_VIEW,
        Action.ACCESS_RULE_VIEW,
        Action.TOPIC_VIEW,
        Action.GROUP_VIEW,
        Action.MESSAGE_VIEW,
        Action.QUOTA_VIEW,
        Action.AUDIT_VIEW,
    }
)
_DEVELOP = frozenset({Action.TOPIC_MANAGE, Action.GROUP_MANAGE, Action.MESSAGE_PRODUCE})
_ADMINISTER = frozenset(
    {
        Action.MEMBER_MANAGE,
        Action.SERVICE_ACCOUNT_MANAGE,
        Action.ACCESS_RULE_MANAGE,
        Action.DRIFT_RESOLVE,
    }
)

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    OPERATOR: frozenset(Action),
    "admin": _VIEW | _DEVELOP | _ADMINISTER,
    "developer": _VIEW | _DEVELOP,
    "viewer": _VIEW,
}
"""role -> the actions it allows. A tenant admin also does what a developer does."""

OPERATOR_ONLY = frozenset(Action) - ROLE_ACTIONS["admin"]


def allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ROLE_ACTIONS.get(role, frozenset())
