"""Topics: created, configured, grown and deleted through the admin API, inside the
actor's tenant.

Topics stay imperative (docs/console.md, "Why topics are not desired state"): a
tenant's own clients may create topics too, within the plan the broker enforces, so a
desired-topics table would fight them. Each service validates by Kafka's rules
(``ValidationError`` keyed by the field at fault), then by tenancy (a member creates
only inside a prefix of a tenant where its role allows ``topic.manage``; operators
anywhere) and the plan's limits (:mod:`broker.common.plan_limits`, the broker's own
rules; config names and values by the broker's config catalog,
:mod:`broker.cluster.config_catalog`), performs the write through
:mod:`console.broker_admin` (whose errors carry the broker's message), audits
it and publishes the browser event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

from broker.cluster.config_catalog import TOPIC_CONFIGS
from broker.common import plan_limits
from broker.common.limits import INT16_MAX, MAX_PARTITIONS_PER_REQUEST
from broker.errors import BrokerError
from console import broker_admin, events
from console.models import Tenant, TenantState
from console.roles import Action
from console.services._common import audit
from console.tenancy import Actor, NotFound, authorize, is_operator
from console.topic_names import is_internal, validate_no_collision, validate_topic_name

DEFAULT_REPLICATION_FACTOR = -1  # CreateTopics: the broker's default.replication.factor


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def topic_tenant(*, actor: Actor, name: str, action: Action) -> Tenant | None:
    """The tenant owning topic ``name`` if ``actor`` may take ``action`` on it; None for a
    topic outside every tenant, which only operators may touch. Anything else is
    NotFound (a name the actor may not see is a name that does not exist)."""
    slug, dot, _ = name.partition(".")
    tenant = Tenant.objects.select_related("plan").filter(slug=slug).first() if dot else None
    if tenant is None:
        if is_operator(actor):
            return None
        raise NotFound("no such topic")
    authorize(actor=actor, action=action, tenant=tenant)  # NotFound outside its tenants
    if tenant.state != TenantState.ACTIVE:
        raise ValidationError(f"Tenant {tenant.slug} is being deleted.", code="deleting")
    return tenant


def plan_check(
    *, tenant: Tenant, name: str, partitions: int, configs: dict[str, str], topics: dict[str, int]
) -> None:
    """The tenant's plan limits, by the broker's own rules; ValidationError by field."""
    limits = plan_limits.PlanLimits(**tenant.plan.limits())
    try:
        plan_limits.check_create(
            limits, prefix=tenant.prefix, topics=topics, name=name, partitions=partitions,
            configs=configs,
        )  # fmt: skip
    except plan_limits.PlanViolation as exc:
        message = str(exc)
        field = "partitions" if "partition" in message.split(":")[-1] else "name"
        if "retention.ms" in message or "max.message.bytes" in message:
            field = "configs"
        raise _field_error(field, message, "plan_limit") from exc


def topic_create(
    *,
    actor: Actor,
    name: str,
    partitions: int,
    replication_factor: int = DEFAULT_REPLICATION_FACTOR,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Create topic ``name`` with ``partitions`` partitions (and topic ``configs``).

    Refused before any request: an illegal name, a partition count outside 1 to
    Kafka's per-request cap, a replication factor outside 1 to INT16 (-1: the broker's
    default), a name outside
    the actor's tenants, beyond the tenant's plan, or colliding with an existing topic
    (Kafka's '.'/'_' rule, checked against Metadata). The broker may still refuse (its
    own limits, its plan policy, a race): its answer propagates.

    A tenant topic without ``retention.ms`` gets the plan's maximum, when the plan has
    one, so that the broker's default cannot exceed it.
    """
    try:
        validate_topic_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from exc
    if partitions < 1:
        raise _field_error("partitions", "A topic needs at least one partition.", "min_value")
    if partitions > MAX_PARTITIONS_PER_REQUEST:
        raise _field_error(
            "partitions",
            f"At most {MAX_PARTITIONS_PER_REQUEST} partitions: Kafka refuses more in one "
            f"request (this asks for {partitions}).",
            "max_value",
        )
    if (
        replication_factor != DEFAULT_REPLICATION_FACTOR
        and not 1 <= replication_factor <= INT16_MAX
    ):
        raise _field_error(
            "replication_factor",
            f"The replication factor must be from 1 to {INT16_MAX} (or -1 for the "
            "cluster's default).",
            "replication",
        )
    tenant = topic_tenant(actor=actor, name=name, action=Action.TOPIC_MANAGE)
    configs = dict(configs or {})
    if tenant is not None and tenant.plan.max_retention_ms is not None:
        configs.setdefault("retention.ms", str(tenant.plan.max_retention_ms))
    existing = broker_admin.describe_topics()
    try:
        validate_no_collision(name, existing)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from exc
    if tenant is not None:
        plan_check(
            tenant=tenant, name=name, partitions=partitions, configs=configs,
            topics={t.name: len(t.partitions) for t in existing.values()},
        )  # fmt: skip
    broker_admin.create_topic(
        name=name, num_partitions=partitions, replication_factor=replication_factor,
        configs=configs,
    )  # fmt: skip
    audit(
        actor=actor, action="topic.create", tenant=tenant, resource_type="topic",
        resource_name=name, after={"partitions": partitions, "configs": configs},
    )  # fmt: skip


def internal_topic_message(name: str) -> str:
    """Why an internal topic cannot be deleted, for pages and errors."""
    return (
        f"Topic {name} is a Kafka internal topic and cannot be deleted: the brokers keep "
        "consumer groups' committed offsets and transactions' state in it."
    )


def topic_delete(*, actor: Actor, name: str) -> None:
    """Delete topic ``name`` and tell anyone watching it. Internal topics are refused;
    a topic outside the actor's tenants is NotFound."""
    validate_topic_name(name)
    if is_internal(name):
        raise ValidationError(internal_topic_message(name), code="internal")
    tenant = topic_tenant(actor=actor, name=name, action=Action.TOPIC_MANAGE)
    broker_admin.delete_topic(name=name)
    audit(actor=actor, action="topic.delete", tenant=tenant, resource_type="topic",
          resource_name=name)  # fmt: skip
    events.publish_topic_deleted(topic=name)


# -- configure and grow (issue 10) --------------------------------------------------

PLAN_CONFIGS = ("retention.ms", "max.message.bytes")
"""The topic configs a tenant's plan bounds (:func:`plan_limits.check_configs`)."""


def _validate_config_changes(set: Mapping[str, str], delete: Iterable[str]) -> list[str]:
    """Kafka's names and values, by the broker's own config catalog; the names to
    delete, in order. ValidationError on ``configs`` with Kafka's message."""
    deleting = list(dict.fromkeys(delete))
    if not set and not deleting:
        raise _field_error("configs", "Nothing to change: set or delete a config.", "empty")
    both = sorted(k for k in deleting if k in set)
    if both:
        raise _field_error(
            "configs", f"{', '.join(both)}: set and deleted in one change.", "conflict"
        )
    for config in [*set, *deleting]:
        if config not in TOPIC_CONFIGS:
            raise _field_error("configs", f"Unknown topic config name: {config}", "unknown")
    for config, value in set.items():
        try:
            TOPIC_CONFIGS[config].parse(value)
        except BrokerError as exc:  # INVALID_CONFIG with Kafka's message
            raise _field_error("configs", str(exc), "invalid") from exc
    return deleting


def _effective_after(
    current: Mapping[str, broker_admin.TopicConfig], set: Mapping[str, str], delete: list[str]
) -> dict[str, str | None]:
    """The plan-bound configs' values once the change is applied: a set value, the
    broker's default for a deleted override, else what the topic has now."""
    values: dict[str, str | None] = {}
    for config in PLAN_CONFIGS:
        entry = current.get(config)
        if config in set:
            values[config] = set[config]
        elif config in delete and entry is not None and entry.is_override:
            values[config] = entry.fallback
        else:
            values[config] = entry.value if entry is not None else None
    return values


def topic_configs_alter(
    *, actor: Actor, name: str, set: Mapping[str, str], delete: Iterable[str] = ()
) -> None:
    """Change topic ``name``'s configs (IncrementalAlterConfigs): SET each of ``set``,
    DELETE each of ``delete`` (back to the broker's default).

    Refused before any request: a topic outside the actor's tenants (NotFound) or a
    role without ``topic.manage`` (PermissionDenied); a config name or value the broker's
    catalog refuses (Kafka's INVALID_CONFIG text); a resulting ``retention.ms`` or
    ``max.message.bytes`` beyond the tenant's plan (the broker's plan rule). The broker
    may still refuse: its answer propagates. Audited with the overrides before/after.
    """
    validate_topic_name(name)
    tenant = topic_tenant(actor=actor, name=name, action=Action.TOPIC_MANAGE)
    set = dict(set)
    deleting = _validate_config_changes(set, delete)
    current = broker_admin.describe_topic_configs(name=name)
    if tenant is not None:
        limits = plan_limits.PlanLimits(**tenant.plan.limits())
        try:
            plan_limits.check_configs(
                limits, _effective_after(current, set, deleting),
                subject=f"Cannot alter topic {name}",
            )  # fmt: skip
        except plan_limits.PlanViolation as exc:
            raise _field_error("configs", str(exc), "plan_limit") from exc
    changed = [*set, *deleting]
    before = {
        k: (current[k].value if k in current and current[k].is_override else None) for k in changed
    }
    broker_admin.alter_topic_configs(name=name, set=set, delete=deleting)
    audit(
        actor=actor, action="topic.alter_configs", tenant=tenant, resource_type="topic",
        resource_name=name, before=before, after={**set, **dict.fromkeys(deleting)},
    )  # fmt: skip


def topic_partitions_create(*, actor: Actor, name: str, count: int) -> None:
    """Grow topic ``name`` to ``count`` partitions in total (CreatePartitions: Kafka
    adds partitions, it never removes them), within the tenant's plan; audited."""
    validate_topic_name(name)
    if is_internal(name):
        raise _field_error(
            "count",
            f"Topic {name} is a Kafka internal topic: its partition count is part of how "
            "the brokers place groups and transactions, so the console does not change it.",
            "internal",
        )
    tenant = topic_tenant(actor=actor, name=name, action=Action.TOPIC_MANAGE)
    existing = broker_admin.describe_topics()
    topic = existing.get(name)
    if topic is None:
        raise broker_admin.UnknownTopic(f"topic {name!r}: no such topic")
    held = len(topic.partitions)
    if count <= held:
        raise _field_error(
            "count",
            f"Topic currently has {held} partitions, which is higher than or equal to the "
            f"requested {count}: Kafka only adds partitions.",
            "min_value",
        )
    if count - held > MAX_PARTITIONS_PER_REQUEST:
        raise _field_error(
            "count",
            f"At most {MAX_PARTITIONS_PER_REQUEST} partitions may be added in one request "
            f"(this adds {count - held}).",
            "max_value",
        )
    if tenant is not None:
        limits = plan_limits.PlanLimits(**tenant.plan.limits())
        try:
            plan_limits.check_partitions(
                limits, prefix=tenant.prefix, name=name, adding=count - held,
                topics={t.name: len(t.partitions) for t in existing.values()},
            )  # fmt: skip
        except plan_limits.PlanViolation as exc:
            raise _field_error("count", str(exc), "plan_limit") from exc
    broker_admin.create_partitions(name=name, total=count)
    audit(
        actor=actor, action="topic.create_partitions", tenant=tenant, resource_type="topic",
        resource_name=name, before={"partitions": held}, after={"partitions": count},
    )  # fmt: skip
