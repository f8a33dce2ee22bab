"""Listener, protocol map, per-listener ssl.* and SASL settings, as Kafka reads them."""

from __future__ import annotations

import pytest

from broker.config import ConfigError, Listener, config_from_properties


def config(**props: str):  # type: ignore[no-untyped-def]
    return config_from_properties({k.replace("_", "."): v for k, v in props.items()})


def test_default_protocol_map_maps_the_four_protocols_to_themselves() -> None:
    c = config_from_properties(
        {"listeners": "PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9094"}
    )
    assert c.security_protocol("PLAINTEXT") == "PLAINTEXT"
    assert c.security_protocol("SASL_SSL") == "SASL_SSL"
    assert c.sasl_mechanisms("SASL_SSL") == ("SCRAM-SHA-256", "SCRAM-SHA-512")


def test_custom_listener_names_need_the_protocol_map() -> None:
    with pytest.raises(ConfigError, match="no security protocol for listener CLIENT"):
        config_from_properties({"listeners": "CLIENT://127.0.0.1:9092"})
    c = config_from_properties(
        {
            "listeners": "CLIENT://127.0.0.1:9092,INTERNAL://127.0.0.1:9093",
            "listener.security.protocol.map": "client:sasl_ssl, INTERNAL:PLAINTEXT",
        }
    )
    assert c.security_protocol("CLIENT") == "SASL_SSL"
    assert "listener.security.protocol.map" not in c.properties
    with pytest.raises(ConfigError, match="unknown security protocol TLS"):
        config_from_properties({"listener.security.protocol.map": "A:TLS"})


def test_advertised_listener_names_must_be_listeners() -> None:
    with pytest.raises(ConfigError, match=r"Found OTHER\. The valid options"):
        config_from_properties(
            {
                "listeners": "PLAINTEXT://127.0.0.1:9092",
                "advertised.listeners": "OTHER://broker.example:9092",
            }
        )


def test_each_listener_advertises_itself_by_name() -> None:
    c = config_from_properties(
        {
            "listeners": "PLAINTEXT://0.0.0.0:9092,SSL://127.0.0.1:9093",
            "advertised.listeners": "SSL://kafka.example:19093",
        }
    )
    assert c.advertised_listener("SSL") == Listener("SSL", "kafka.example", 19093)
    assert c.advertised_listener("PLAINTEXT") == Listener("PLAINTEXT", "127.0.0.1", 9092)
    assert c.advertised_listener(None) == Listener("SSL", "kafka.example", 19093)


def test_sasl_mechanisms_are_checked_and_may_be_set_per_listener() -> None:
    with pytest.raises(ConfigError, match="GSSAPI not supported"):
        config_from_properties({"sasl.enabled.mechanisms": "GSSAPI"})
    c = config_from_properties(
        {
            "listeners": "SASL_PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9093",
            "sasl.enabled.mechanisms": "scram-sha-512",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
        }
    )
    assert c.sasl_mechanisms("SASL_PLAINTEXT") == ("SCRAM-SHA-512",)
    assert c.sasl_mechanisms("SASL_SSL") == ("PLAIN", "SCRAM-SHA-256")


def test_listener_prefixed_ssl_settings_win_and_secrets_stay_out_of_repr() -> None:
    c = config_from_properties(
        {
            "listeners": "SSL://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094,MTLS://127.0.0.1:9095",
            "listener.security.protocol.map": "SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL",
            "ssl.keystore.location": "/etc/kafka/server.pem",
            "ssl.key.password": "very-secret",
            "ssl.client.auth": "required",
            "listener.name.mtls.ssl.keystore.location": "/etc/kafka/internal.pem",
        }
    )
    assert c.tls_settings("SSL").keystore_location == "/etc/kafka/server.pem"
    assert c.tls_settings("MTLS").keystore_location == "/etc/kafka/internal.pem"
    assert c.tls_settings("SSL").client_auth == "required"
    # KIP-684: only a listener-prefixed ssl.client.auth applies to SASL_SSL listeners
    assert c.tls_settings("SASL_SSL").client_auth == "none"
    assert "very-secret" not in repr(c)
    assert "very-secret" not in repr(c.tls_settings("SSL"))
    assert "ssl.key.password" not in c.properties and "ssl.key.password" not in c.extra


def test_connection_failed_authentication_delay_and_sasl_receive_size() -> None:
    c = config_from_properties(
        {
            "connection.failed.authentication.delay.ms": "0",
            "sasl.server.max.receive.size": "1024",
        }
    )
    assert c.connection_failed_authentication_delay_ms == 0
    assert c.sasl_server_max_receive_size == 1024
    assert config_from_properties({}).sasl_server_max_receive_size == 524288
