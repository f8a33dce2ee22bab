"""DescribeClientQuotas / AlterClientQuotas over the wire: Kafka's filter semantics and
validation errors, and the precedence of entities observed as throttle times."""

from __future__ import annotations

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic
from tests.support.quotas import alter_quotas, describe_quotas, described
from tests.support.wire import KafkaWire, produce_request, record_batch

INVALID_REQUEST = 42
UNSUPPORTED_VERSION = 35
EXACT, DEFAULT, SPECIFIED = 0, 1, 2


def test_describe_filters_by_exact_default_and_specified_names(broker: BrokerProcess) -> None:
    with KafkaWire("127.0.0.1", broker.port) as wire:
        for entity, rate in (
            ({"user": "alice"}, 1.0),
            ({"user": None}, 2.0),
            ({"user": "alice", "client-id": "etl"}, 3.0),
            ({"client-id": None}, 4.0),
        ):
            assert alter_quotas(wire, entity, {"producer_byte_rate": rate}).error_code == 0

        everything = described(describe_quotas(wire, []))
        assert len(everything) == 4
        alice = described(describe_quotas(wire, [("user", EXACT, "alice")]))
        assert set(alice) == {(("user", "alice"),), (("user", "alice"), ("client-id", "etl"))}
        alice_only = described(describe_quotas(wire, [("user", EXACT, "alice")], strict=True))
        assert alice_only == {(("user", "alice"),): {"producer_byte_rate": 1.0}}
        defaults = described(describe_quotas(wire, [("user", DEFAULT, None)], strict=True))
        assert defaults == {(("user", None),): {"producer_byte_rate": 2.0}}
        named = described(describe_quotas(wire, [("user", SPECIFIED, None)]))
        assert set(named) == {(("user", "alice"),), (("user", "alice"), ("client-id", "etl"))}
        assert described(describe_quotas(wire, [("ip", SPECIFIED, None)])) == {}

        # validate_only changes nothing; removing the last key removes the entity
        assert alter_quotas(wire, {"user": "bob"}, {"producer_byte_rate": 5.0}, validate_only=True)
        assert (("user", "bob"),) not in described(describe_quotas(wire, []))
        assert alter_quotas(wire, {"user": "alice"}, {"producer_byte_rate": None}).error_code == 0
        assert (("user", "alice"),) not in described(describe_quotas(wire, []))


def test_bad_filters_and_alterations_get_kafkas_errors(broker: BrokerProcess) -> None:
    with KafkaWire("127.0.0.1", broker.port) as wire:
        bad_filters = [
            ([("user", EXACT, None)], INVALID_REQUEST, "MATCH_TYPE_EXACT, but set match"),
            ([("user", DEFAULT, "x")], INVALID_REQUEST, "MATCH_TYPE_DEFAULT, but also"),
            ([("user", EXACT, "a"), ("user", DEFAULT, None)], INVALID_REQUEST, "more than once"),
            ([("ip", SPECIFIED, None), ("user", SPECIFIED, None)], INVALID_REQUEST, "IP filter"),
            ([("group", SPECIFIED, None)], UNSUPPORTED_VERSION, "Unsupported entity type group"),
            ([("user", 7, None)], UNSUPPORTED_VERSION, "Unsupported match type 7"),
        ]
        for components, code, message in bad_filters:
            response = describe_quotas(wire, components)
            assert response.error_code == code, components
            assert message in response.error_message
            assert response.entries is None
        bad_alterations = [
            ({"user": "a"}, {"bogus_rate": 1.0}, "Invalid configuration key bogus_rate"),
            ({"user": "a"}, {"producer_byte_rate": 0.0}, "must be greater than 0"),
            ({"user": "a"}, {"consumer_byte_rate": 1.5}, "cannot be a fractional value"),
            ({"user": "a"}, {"connection_creation_rate": 5.0}, "Invalid configuration key"),
            ({}, {"producer_byte_rate": 1.0}, "Invalid empty client quota entity"),
            ({"user": ""}, {"producer_byte_rate": 1.0}, "Empty user not supported"),
            ({"ip": None, "user": "a"}, {"producer_byte_rate": 1.0}, "IP entity should not"),
            ({"ip": "10.0.0.1"}, {"producer_byte_rate": 1.0}, "Invalid configuration key"),
            ({"ip": "10.0.0.1"}, {"connection_creation_rate": 2.5}, "cannot be a fractional"),
            ({"ip": "10.0.0.1"}, {"connection_creation_rate": 2.0**31}, "too large for an INT."),
            ({"ip": "10.0.0.1"}, {"connection_creation_rate": 0.0}, "must be greater than 0"),
            ({"ip": "300.1.1.1"}, {"connection_creation_rate": 5.0}, "300.1.1.1 is not a valid IP"),
            ({"ip": "no_such host"}, {"connection_creation_rate": 5.0}, "or resolvable host."),
            ({"ip": ""}, {"connection_creation_rate": 5.0}, "Empty ip not supported"),
            ({"group": "g"}, {"producer_byte_rate": 1.0}, "Unhandled client quota entity type"),
        ]
        for entity, ops, message in bad_alterations:
            result = alter_quotas(wire, entity, ops)
            assert result.error_code == INVALID_REQUEST, (entity, ops)
            assert message in result.error_message
        assert described(describe_quotas(wire, [])) == {}


def _throttle_s(broker: BrokerProcess, client_id: str, topic: str, size: int) -> float:
    """Produce one ``size``-byte value as ``client_id`` (a new connection, as a new
    client would); the response's throttle time in seconds."""
    with KafkaWire("127.0.0.1", broker.port, client_id=client_id) as wire:
        response = wire.request(produce_request(topic, record_batch([(None, b"p" * size)])))
    assert response.responses[0].partition_responses[0].error_code == 0
    return response.throttle_time.total_seconds()


def test_user_and_client_id_beats_user_beats_client_id_default(broker: BrokerProcess) -> None:
    """Each entity is a token bucket of ``bound`` bytes/s holding 11 s worth (the default
    quota.window.num x size), so one request of S bytes is throttled (S - 11 bound) / bound
    seconds: the bound that applied can be read off the throttle time."""
    topic = "precedence"
    confluent_create_topic(broker.bootstrap, topic, 1)
    size = 100_000
    anonymous = "ANONYMOUS"  # the user entity of an unauthenticated client
    with KafkaWire("127.0.0.1", broker.port) as wire:
        for entity, bound in (
            ({"user": anonymous, "client-id": "a"}, 1000.0),
            ({"user": anonymous}, 2000.0),
            ({"client-id": None}, 4000.0),
        ):
            assert alter_quotas(wire, entity, {"producer_byte_rate": bound}).error_code == 0

    def expected(bound: float) -> float:
        return (size - 11 * bound) / bound

    # ~100 bytes of request and batch headers add ~0.1 s at these bounds
    assert abs(_throttle_s(broker, "a", topic, size) - expected(1000)) < 0.5
    assert abs(_throttle_s(broker, "b", topic, size) - expected(2000)) < 0.5
    with KafkaWire("127.0.0.1", broker.port) as wire:  # without user quotas, client-ids'
        assert alter_quotas(wire, {"user": anonymous}, {"producer_byte_rate": None})
        assert alter_quotas(
            wire, {"user": anonymous, "client-id": "a"}, {"producer_byte_rate": None}
        )
    assert abs(_throttle_s(broker, "c", topic, size) - expected(4000)) < 0.5
