"""The configs Headwater knows, under Kafka's names, types, defaults and validators.

``TOPIC_CONFIGS``: per-topic settings (Kafka's ``TopicConfig``), plus Headwater's
``flush.mode``. ``TOPIC_SYNONYMS``: the broker configs each topic config falls back to,
in precedence order, with the factor that converts the broker unit to the topic's
(``log.retention.hours`` x 3600000 -> ``retention.ms``). ``BROKER_CONFIGS``: the broker
settings DescribeConfigs lists for a broker; ``DYNAMIC_BROKER_CONFIGS`` the subset that
AlterConfigs may change at runtime, which is exactly the set whose effect Headwater
implements (the topic-config defaults flow into every topic's resolved LogConfig; the
connection limits of :mod:`broker.cluster.connection_limits` into the broker's
connection quotas, also as ``listener.name.<listener>.``-prefixed names).

Defaults are Kafka 3.x's. Where Headwater's broker has its own default (listeners,
log.dirs, node.id) the table says so.
"""

from __future__ import annotations

from broker.cluster import connection_limits
from broker.cluster.config_def import (
    INT_MAX,
    LONG_MAX,
    ConfigDef,
    ConfigType,
    ListOf,
    OneOf,
    at_least,
    between,
    definitions,
    invalid_value,
)

HOUR_MS = 3_600_000
MINUTE_MS = 60_000

CLEANUP_POLICIES = ListOf(("compact", "delete"))
COMPRESSION_TYPES = OneOf(("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"))
TIMESTAMP_TYPES = OneOf(("CreateTime", "LogAppendTime"))
FLUSH_MODES = OneOf(("async", "durable"))

STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ACL_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"


def authorizer_class(name: str, value: object) -> None:
    """``authorizer.class.name``: empty (no authorizer) or one of Kafka's two names."""
    if value not in ("", STANDARD_AUTHORIZER, ACL_AUTHORIZER):
        raise invalid_value(
            name,
            value,
            f"Headwater's authorizer serves {STANDARD_AUTHORIZER} or {ACL_AUTHORIZER}; "
            "leave it empty for no authorization",
        )


def super_users(value: str | None) -> frozenset[str]:
    """The principals of a ``super.users`` value (``User:a;User:CN=b,O=c``)."""
    return frozenset(p.strip() for p in (value or "").split(";") if p.strip())


def principal_list(name: str, value: object) -> None:
    """Each ``super.users`` entry must be a principal, ``Type:name``."""
    for principal in super_users(str(value)):
        if ":" not in principal:
            raise invalid_value(
                name, value, f"{principal} is not a principal of the form User:name"
            )


T = ConfigType

TOPIC_CONFIGS = definitions(
    ConfigDef("cleanup.policy", T.LIST, ("delete",), "Retention policy for old log segments: "
        "\"delete\" discards segments past the retention time or size limit, \"compact\" "
        "keeps the latest value of every key; both may be listed.", CLEANUP_POLICIES),
    ConfigDef("compression.type", T.STRING, "producer", "Final compression codec of the "
        "topic's data: gzip, snappy, lz4 or zstd; \"uncompressed\" stores it uncompressed; "
        "\"producer\" keeps the codec the producer chose.", COMPRESSION_TYPES),
    ConfigDef("delete.retention.ms", T.LONG, 86_400_000, "How long delete tombstones stay "
        "in a compacted topic, so consumers reading from the start still see them.",
        at_least(0)),
    ConfigDef("file.delete.delay.ms", T.LONG, 60_000, "How long a segment marked for "
        "deletion stays on disk before its files are removed.", at_least(0)),
    ConfigDef("flush.messages", T.LONG, LONG_MAX, "Force an fsync of the log after this "
        "many messages; the default leaves write-back to the operating system.",
        at_least(1)),
    ConfigDef("flush.ms", T.LONG, LONG_MAX, "Force an fsync of the log when a message "
        "has waited this long unflushed.", at_least(0)),
    ConfigDef("flush.mode", T.STRING, "async", "Headwater: \"async\" acknowledges writes "
        "once they are in the OS page cache (Kafka's behaviour); \"durable\" makes acks=all "
        "wait for a group-commit fdatasync covering the write.", FLUSH_MODES),
    ConfigDef("index.interval.bytes", T.INT, 4096, "How many bytes of records lie between "
        "two offset index entries; denser entries make seeks cheaper and indexes larger.",
        at_least(0)),
    ConfigDef("max.compaction.lag.ms", T.LONG, LONG_MAX, "The longest time a message may "
        "stay uncompacted in a compacted log.", at_least(1)),
    ConfigDef("max.message.bytes", T.INT, 1_048_588, "The largest record batch the broker "
        "accepts for this topic (after compression, if compressed).", at_least(0)),
    ConfigDef("message.timestamp.after.max.ms", T.LONG, LONG_MAX, "How far in the future "
        "a CreateTime timestamp may be relative to the broker's clock.", at_least(0)),
    ConfigDef("message.timestamp.before.max.ms", T.LONG, LONG_MAX, "How far in the past "
        "a CreateTime timestamp may be relative to the broker's clock.", at_least(0)),
    ConfigDef("message.timestamp.difference.max.ms", T.LONG, LONG_MAX, "[DEPRECATED] Used "
        "for message.timestamp.before.max.ms and message.timestamp.after.max.ms when those "
        "keep their defaults.", at_least(0)),
    ConfigDef("message.timestamp.type", T.STRING, "CreateTime", "Whether record timestamps "
        "are the producer's (CreateTime) or the broker's append time (LogAppendTime).",
        TIMESTAMP_TYPES),
    ConfigDef("min.cleanable.dirty.ratio", T.DOUBLE, 0.5, "How much of a compacted log may "
        "be uncompacted (dirty) before the cleaner compacts it.", between(0, 1)),
    ConfigDef("min.compaction.lag.ms", T.LONG, 0, "The shortest time a message stays "
        "uncompacted in a compacted log.", at_least(0)),
    ConfigDef("min.insync.replicas", T.INT, 1, "With acks=all, the fewest in-sync replicas "
        "that must have a write before it is acknowledged (NOT_ENOUGH_REPLICAS otherwise).",
        at_least(1)),
    ConfigDef("preallocate", T.BOOLEAN, False, "Preallocate segment files on disk when a "
        "new segment is rolled."),
    ConfigDef("retention.bytes", T.LONG, -1, "The size a partition's log may grow to "
        "before old segments are discarded under the delete policy; -1: no size limit."),
    ConfigDef("retention.ms", T.LONG, 604_800_000, "How long a segment is kept before it "
        "is discarded under the delete policy; -1: no time limit.", at_least(-1)),
    ConfigDef("segment.bytes", T.INT, 1_073_741_824, "The size of one segment file of the "
        "log; retention and compaction work a segment at a time.", at_least(14)),
    ConfigDef("segment.index.bytes", T.INT, 10_485_760, "The size of the index mapping "
        "offsets to file positions of one segment.", at_least(4)),
    ConfigDef("segment.jitter.ms", T.LONG, 0, "The largest random time subtracted from "
        "segment.ms, so segments of many partitions do not roll at once.", at_least(0)),
    ConfigDef("segment.ms", T.LONG, 604_800_000, "Roll a new segment after this long even "
        "if the active one is not full, so retention and compaction can act on old data.",
        at_least(1)),
    ConfigDef("unclean.leader.election.enable", T.BOOLEAN, False, "Whether a replica that "
        "is not in sync may become leader as a last resort, at the cost of losing data."),
)  # fmt: skip

TOPIC_SYNONYMS: dict[str, tuple[tuple[str, int], ...]] = {
    "cleanup.policy": (("log.cleanup.policy", 1),),
    "compression.type": (("compression.type", 1),),
    "delete.retention.ms": (("log.cleaner.delete.retention.ms", 1),),
    "file.delete.delay.ms": (("log.segment.delete.delay.ms", 1),),
    "flush.messages": (("log.flush.interval.messages", 1),),
    "flush.ms": (("log.flush.interval.ms", 1), ("log.flush.scheduler.interval.ms", 1)),
    "flush.mode": (("log.flush.mode", 1),),
    "index.interval.bytes": (("log.index.interval.bytes", 1),),
    "max.compaction.lag.ms": (("log.cleaner.max.compaction.lag.ms", 1),),
    "max.message.bytes": (("message.max.bytes", 1),),
    "message.timestamp.after.max.ms": (("log.message.timestamp.after.max.ms", 1),),
    "message.timestamp.before.max.ms": (("log.message.timestamp.before.max.ms", 1),),
    "message.timestamp.difference.max.ms": (("log.message.timestamp.difference.max.ms", 1),),
    "message.timestamp.type": (("log.message.timestamp.type", 1),),
    "min.cleanable.dirty.ratio": (("log.cleaner.min.cleanable.ratio", 1),),
    "min.compaction.lag.ms": (("log.cleaner.min.compaction.lag.ms", 1),),
    "min.insync.replicas": (("min.insync.replicas", 1),),
    "preallocate": (("log.preallocate", 1),),
    "retention.bytes": (("log.retention.bytes", 1),),
    "retention.ms": (
        ("log.retention.ms", 1),
        ("log.retention.minutes", MINUTE_MS),
        ("log.retention.hours", HOUR_MS),
    ),
    "segment.bytes": (("log.segment.bytes", 1),),
    "segment.index.bytes": (("log.index.size.max.bytes", 1),),
    "segment.jitter.ms": (("log.roll.jitter.ms", 1), ("log.roll.jitter.hours", HOUR_MS)),
    "segment.ms": (("log.roll.ms", 1), ("log.roll.hours", HOUR_MS)),
    "unclean.leader.election.enable": (("unclean.leader.election.enable", 1),),
}


def _log_default(topic_name: str, broker_name: str, default: object = "same") -> ConfigDef:
    """The broker-level default of a topic config: same type, validator and doc."""
    topic = TOPIC_CONFIGS[topic_name]
    return ConfigDef(
        broker_name,
        topic.type,
        topic.default if default == "same" else default,
        f"The default {topic_name} of topics without an override. {topic.doc}",
        topic.validator,
    )


BROKER_CONFIGS = definitions(
    ConfigDef("node.id", T.INT, 1, "The ID of this broker in the cluster.", at_least(0)),
    ConfigDef("listeners", T.STRING, "PLAINTEXT://127.0.0.1:9092", "Comma-separated "
        "NAME://host:port addresses the broker listens on."),
    ConfigDef("advertised.listeners", T.STRING, None, "Addresses given to clients, if not "
        "those of listeners."),
    ConfigDef("log.dirs", T.STRING, None, "Directories holding the log data; this broker "
        "uses the first."),
    ConfigDef("log.dir", T.STRING, "data/kafka-logs", "The log directory when log.dirs is "
        "not set."),
    ConfigDef("num.partitions", T.INT, 1, "The default partition count of new topics.",
        at_least(1)),
    ConfigDef("max.broker.partitions", T.INT, 5_000, "The most partitions this broker "
        "holds, over all topics (KIP-578); CreateTopics, CreatePartitions and topic "
        "auto-creation beyond it are refused with POLICY_VIOLATION and create nothing.",
        at_least(1)),
    ConfigDef("max.partitions", T.INT, 2_147_483_647, "The most partitions the whole "
        "cluster holds, over all topics and brokers (KIP-578); checked and refused like "
        "max.broker.partitions. On one broker the lower of the two applies.", at_least(1)),
    ConfigDef("log.open.files.max", T.INT, -1, "The most log files (segments and their "
        "indexes) held open at once; idle ones are closed, least recently used first, and "
        "reopened when used, so the partitions a broker holds are not bounded by its "
        "descriptor limit. -1: half of the open-file limit (RLIMIT_NOFILE, raised to the "
        "hard limit at start-up). Headwater's own; Kafka keeps every segment open.",
        at_least(-1)),
    ConfigDef("default.replication.factor", T.INT, 1, "The default replication factor of "
        "new topics.", at_least(1)),
    ConfigDef("auto.create.topics.enable", T.BOOLEAN, True, "Create a topic when a client "
        "asks for metadata of a topic that does not exist."),
    ConfigDef("delete.topic.enable", T.BOOLEAN, True, "Allow deleting topics."),
    ConfigDef("socket.request.max.bytes", T.INT, 104_857_600, "The largest request the "
        "broker reads; larger frames close the connection.", at_least(1)),
    ConfigDef("queued.max.request.bytes", T.LONG, 268_435_456, "The bytes of requests the "
        "broker holds at once, being received or handled, over all connections; while "
        "they are used up it reads from no connection whose next request does not fit. "
        "-1: no bound (Kafka's default). At least socket.request.max.bytes.", at_least(-1)),
    ConfigDef("socket.listen.backlog.size", T.INT, 50, "The most connections the "
        "operating system queues for a listener while the broker does not accept them "
        "(also bounded by the kernel's somaxconn).", at_least(1)),
    ConfigDef(connection_limits.MAX_CONNECTIONS, T.INT, INT_MAX, "The most connections "
        "open at once, all listeners together; listener.name.<listener>.max.connections "
        "limits one listener. Over either, new connections wait until one closes.",
        at_least(0)),
    ConfigDef(connection_limits.MAX_CONNECTIONS_PER_IP, T.INT, INT_MAX, "The most "
        "connections open at once from one IP address; a new connection over it is "
        "closed at once. May be 0 when max.connections.per.ip.overrides is set.",
        at_least(0)),
    ConfigDef(connection_limits.MAX_CONNECTIONS_PER_IP_OVERRIDES, T.STRING, "", "Other "
        "limits than max.connections.per.ip for some addresses or host names, as "
        "host:count pairs separated by commas: \"hostName:100,127.0.0.1:200\".",
        connection_limits.validate_overrides),
    ConfigDef(connection_limits.MAX_CONNECTION_CREATION_RATE, T.INT, INT_MAX, "The most "
        "new connections per second, all listeners together; listener.name.<listener>."
        "max.connection.creation.rate limits one listener. Over either, accepting waits.",
        at_least(0)),
    _log_default("max.message.bytes", "message.max.bytes"),
    _log_default("compression.type", "compression.type"),
    _log_default("min.insync.replicas", "min.insync.replicas"),
    _log_default("unclean.leader.election.enable", "unclean.leader.election.enable"),
    _log_default("cleanup.policy", "log.cleanup.policy"),
    _log_default("delete.retention.ms", "log.cleaner.delete.retention.ms"),
    _log_default("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms"),
    _log_default("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio"),
    _log_default("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"),
    _log_default("flush.messages", "log.flush.interval.messages"),
    _log_default("flush.ms", "log.flush.interval.ms", None),
    ConfigDef("log.cleaner.enable", T.BOOLEAN, True, "Run the log cleaner, which compacts "
        "topics with cleanup.policy=compact."),
    ConfigDef("log.cleaner.backoff.ms", T.LONG, 15_000, "How long the log cleaner sleeps "
        "between passes when there is nothing to clean, in ms.", at_least(1)),
    ConfigDef("log.retention.check.interval.ms", T.LONG, 300_000, "How often retention "
        "(retention.ms, retention.bytes, DeleteRecords) and producer ID expiry run, in ms.",
        at_least(1)),
    ConfigDef("producer.id.expiration.ms", T.INT, 86_400_000, "How long an idle idempotent "
        "producer's sequence state is kept, in ms.", at_least(1)),
    ConfigDef("log.flush.scheduler.interval.ms", T.LONG, LONG_MAX, "How often the flusher "
        "checks for logs to flush; the flush interval when log.flush.interval.ms is unset."),
    _log_default("flush.mode", "log.flush.mode"),
    _log_default("index.interval.bytes", "log.index.interval.bytes"),
    _log_default("segment.index.bytes", "log.index.size.max.bytes"),
    _log_default("message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms"),
    _log_default("message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms"),
    _log_default(
        "message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms"
    ),
    _log_default("message.timestamp.type", "log.message.timestamp.type"),
    _log_default("preallocate", "log.preallocate"),
    _log_default("retention.bytes", "log.retention.bytes"),
    ConfigDef("log.retention.ms", T.LONG, None, "How long to keep a log segment, in ms; "
        "wins over log.retention.minutes and log.retention.hours. -1: no time limit."),
    ConfigDef("log.retention.minutes", T.INT, None, "How long to keep a log segment, in "
        "minutes; wins over log.retention.hours."),
    ConfigDef("log.retention.hours", T.INT, 168, "How long to keep a log segment, in hours."),
    ConfigDef("log.roll.ms", T.LONG, None, "Roll a new segment after this long, in ms; wins "
        "over log.roll.hours.", at_least(1)),
    ConfigDef("log.roll.hours", T.INT, 168, "Roll a new segment after this long, in hours.",
        at_least(1)),
    ConfigDef("log.roll.jitter.ms", T.LONG, None, "The largest random jitter subtracted "
        "from the roll time, in ms; wins over log.roll.jitter.hours."),
    ConfigDef("log.roll.jitter.hours", T.INT, 0, "The largest random jitter subtracted from "
        "the roll time, in hours.", at_least(0)),
    _log_default("file.delete.delay.ms", "log.segment.delete.delay.ms"),
    _log_default("segment.bytes", "log.segment.bytes"),
    ConfigDef("quota.window.num", T.INT, 11, "The number of samples kept for client "
        "quotas; with quota.window.size.seconds it sizes the burst a client may bank.",
        at_least(1)),
    ConfigDef("quota.window.size.seconds", T.INT, 1, "The time span of each client quota "
        "sample, in seconds.", at_least(1)),
    ConfigDef("authorizer.class.name", T.STRING, "", "The authorizer enforcing ACLs: empty "
        "for none (every request allowed), or Kafka's StandardAuthorizer (or the older "
        "AclAuthorizer name), both served by Headwater's ACL authorizer.", authorizer_class),
    ConfigDef("super.users", T.STRING, None, "Principals allowed every operation on every "
        "resource, separated by semicolons: User:admin;User:CN=ops.", principal_list),
    ConfigDef("allow.everyone.if.no.acl.found", T.BOOLEAN, False, "Whether a resource "
        "without any ACL is open to everyone (true) or to super users only (false)."),
)  # fmt: skip

DYNAMIC_BROKER_CONFIGS = (
    frozenset(broker_name for chain in TOPIC_SYNONYMS.values() for broker_name, _factor in chain)
    | connection_limits.CONNECTION_CONFIGS
)
"""Changeable at runtime with AlterConfigs on a broker resource: the topic-config
defaults, whose new values every topic without an override picks up, and the connection
limits (also per listener: ``connection_limits.listener_config``). Every other broker
config is read at startup and is read-only in DescribeConfigs."""


def broker_synonyms(name: str) -> tuple[str, ...]:
    """Kafka's ``brokerSynonyms``: ``name`` and the lower-precedence names it overrides
    (``log.retention.ms`` -> ms, minutes, hours; ``log.retention.hours`` -> hours)."""
    for chain in TOPIC_SYNONYMS.values():
        names = [broker_name for broker_name, _factor in chain]
        if name in names:
            return tuple(names[names.index(name) :])
    return (name,)
