"""Operators' cluster-wide reads: every ACL, the effective-permission checker, SCRAM users."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from broker.common import acls
from console import broker_admin


def _require_operator(actor: AbstractBaseUser | AnonymousUser) -> None:
    """Cluster-wide views are for operators (staff); anyone else gets "not found"."""
    if not getattr(actor, "is_staff", False):
        raise Http404("no such page")


def acl_list(*, actor: AbstractBaseUser | AnonymousUser) -> list[acls.AclBinding]:
    """Every ACL on the cluster, sorted as kafka-acls.sh groups them (by resource)."""
    _require_operator(actor)
    broker_admin.authorizer_configs()  # SecurityDisabled when the authorizer is off
    return sorted(
        broker_admin.describe_acls(),
        key=lambda b: (b.resource_type, b.resource_name, b.pattern_type, b.principal, b.operation),
    )


def permission_check(
    *,
    actor: AbstractBaseUser | AnonymousUser,
    principal: str,
    host: str,
    operation: acls.AclOperation,
    resource_type: acls.ResourceType,
    resource_name: str,
) -> acls.Decision:
    """May ``principal`` from ``host`` do ``operation`` on the resource? Answered by the
    broker's own authorizer rules over what the cluster reports (DescribeAcls, and
    ``super.users`` / ``allow.everyone.if.no.acl.found`` from DescribeConfigs), with
    the rule that decided."""
    _require_operator(actor)
    configs = broker_admin.authorizer_configs()
    authorizer = acls.Authorizer(
        tuple(broker_admin.describe_acls()),
        super_users=configs.super_users,
        allow_everyone_if_no_acl_found=configs.allow_everyone_if_no_acl_found,
    )
    return authorizer.explain(principal, host, operation, resource_type, resource_name)


def scram_user_list(*, actor: AbstractBaseUser | AnonymousUser) -> list[broker_admin.ScramUser]:
    """Operators: every SCRAM user on the cluster, by name."""
    _require_operator(actor)
    return broker_admin.describe_scram_users()
