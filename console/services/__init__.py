"""Console writes: small, typed, keyword-only functions named ``<entity>_<action>``.

Views, forms, the admin, API endpoints and Celery tasks call these and nothing lower.
Each takes the acting user first (``actor``), checks the permission
(:func:`console.tenancy.authorize`), validates (``ValidationError`` keyed by the field
at fault), writes desired state and an audit event in one transaction and asks for a
reconcile on commit. Topic services act on the cluster directly (topics stay
imperative, see docs/console.md) within the tenant's prefix and plan.
"""

from console.services.access import (
    PRESETS,
    access_rule_create,
    access_rule_delete,
    access_rules_from_preset,
    drift_adopt,
    drift_reapply,
)
from console.services.accounts import (
    Credential,
    quota_update,
    service_account_create,
    service_account_revoke,
    service_account_rotate,
)
from console.services.tenants import (
    TenantCreated,
    membership_add,
    membership_remove,
    membership_update,
    plan_create,
    plan_update,
    tenant_create,
    tenant_delete,
)
from console.services.topics import (
    DEFAULT_REPLICATION_FACTOR,
    internal_topic_message,
    topic_create,
    topic_delete,
)

__all__ = [
    "DEFAULT_REPLICATION_FACTOR",
    "PRESETS",
    "Credential",
    "TenantCreated",
    "access_rule_create",
    "access_rule_delete",
    "access_rules_from_preset",
    "drift_adopt",
    "drift_reapply",
    "internal_topic_message",
    "membership_add",
    "membership_remove",
    "membership_update",
    "plan_create",
    "plan_update",
    "quota_update",
    "service_account_create",
    "service_account_revoke",
    "service_account_rotate",
    "tenant_create",
    "tenant_delete",
    "topic_create",
    "topic_delete",
]
