"""SCRAM (RFC 5802/7677) and PLAIN server sides, without a network."""

from __future__ import annotations

import base64

import pytest
from kafka.net.sasl.scram import ScramClient

from broker.security.plain import PlainFailure, PlainServer
from broker.security.scram import (
    SCRAM_SHA_256,
    SCRAM_SHA_512,
    ScramCredential,
    ScramError,
    ScramServer,
    credential_from_salted_password,
    decode_saslname,
    encode_saslname,
    new_credential,
    password_matches,
    salted_password,
)

# RFC 7677 section 3: user "user", password "pencil".
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def rfc_credential() -> ScramCredential:
    return new_credential(SCRAM_SHA_256, "pencil", iterations=4096, salt=RFC_SALT)


def test_scram_sha_256_server_reproduces_rfc_7677_test_vector() -> None:
    credential = rfc_credential()
    server = ScramServer(SCRAM_SHA_256, {"user": credential}.get, nonce=RFC_SERVER_NONCE)
    assert server.step(RFC_CLIENT_FIRST) == RFC_SERVER_FIRST
    assert not server.complete
    assert server.step(RFC_CLIENT_FINAL) == RFC_SERVER_FINAL
    assert server.complete and server.username == "user"


def test_credential_from_the_client_salted_password_equals_one_from_the_password() -> None:
    salted = salted_password(SCRAM_SHA_256, "pencil", RFC_SALT, 4096)
    assert (
        credential_from_salted_password(SCRAM_SHA_256, salted, RFC_SALT, 4096) == rfc_credential()
    )
    assert password_matches(SCRAM_SHA_256, rfc_credential(), "pencil")
    assert not password_matches(SCRAM_SHA_256, rfc_credential(), "pencil ")


@pytest.mark.parametrize("mechanism", [SCRAM_SHA_256, SCRAM_SHA_512])
def test_an_independent_client_logs_in_and_verifies_the_server(mechanism) -> None:  # type: ignore[no-untyped-def]
    """kafka-python's SCRAM client checks our server signature itself."""
    credential = new_credential(mechanism, "s3cret, with=odd chars", iterations=4096)
    server = ScramServer(mechanism, {"we,ird=name": credential}.get)
    client = ScramClient("we,ird=name", "s3cret, with=odd chars", mechanism.name)
    client.user = encode_saslname("we,ird=name").encode()  # kafka-python does not escape
    client.process_server_first_message(server.step(client.first_message()))
    client.process_server_final_message(server.step(client.final_message()))
    assert server.username == "we,ird=name"


def exchange(server: ScramServer, user: str, password: str) -> None:
    client = ScramClient(user, password, server.mechanism.name)
    client.process_server_first_message(server.step(client.first_message()))
    server.step(client.final_message())


def test_wrong_password_fails_at_the_proof() -> None:
    server = ScramServer(SCRAM_SHA_256, {"user": rfc_credential()}.get)
    with pytest.raises(ScramError, match="invalid credentials"):
        exchange(server, "user", "pencil2")
    assert not server.complete


def test_unknown_user_looks_like_a_known_one_until_the_proof() -> None:
    first = ScramServer(SCRAM_SHA_256, lambda _user: None).step(b"n,,n=ghost,r=abc")
    again = ScramServer(SCRAM_SHA_256, lambda _user: None).step(b"n,,n=ghost,r=abc")
    salt = first.split(b",")[1]
    assert salt == again.split(b",")[1]  # stable: no tell-tale fresh salt per attempt
    assert first.endswith(b",i=8192")
    with pytest.raises(ScramError, match="unknown user"):
        exchange(ScramServer(SCRAM_SHA_256, lambda _user: None), "ghost", "x")


@pytest.mark.parametrize(
    ("client_first", "reason"),
    [
        (b"p=tls-unique,,n=user,r=abc", "channel binding"),
        (b"x,,n=user,r=abc", "channel binding flag"),
        (b"n,,r=abc,n=user", "must start with n= and r="),
        (b"n,,n=us=3Fer,r=abc", "invalid escape"),
        (b"n,a=other,n=user,r=abc", "authorization id"),
        (b"n,,n=user,r=abc,tokenauth=true", "delegation tokens"),
        (b"n,,n=user", "must start with n= and r="),
        (b"\xff", "not UTF-8"),
    ],
)
def test_malformed_client_first_messages_fail(client_first: bytes, reason: str) -> None:
    with pytest.raises(ScramError, match=reason):
        ScramServer(SCRAM_SHA_256, {"user": rfc_credential()}.get).step(client_first)


@pytest.mark.parametrize(
    ("client_final", "reason"),
    [
        (b"c=biws,r=rOprNGfwEbeRWgbNEkqOother,p=AAAA", "nonce"),
        (b"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA", "channel binding"),
        (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", "no proof"),
        (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!", "base64"),
        (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA", "length"),
    ],
)
def test_malformed_client_final_messages_fail(client_final: bytes, reason: str) -> None:
    server = ScramServer(SCRAM_SHA_256, {"user": rfc_credential()}.get, nonce=RFC_SERVER_NONCE)
    server.step(RFC_CLIENT_FIRST)
    with pytest.raises(ScramError, match=reason):
        server.step(client_final)


def test_a_client_nonce_repeated_before_the_combined_one_is_accepted_as_kafka_does() -> None:
    """librdkafka 2.0 (Debian 12's kcat) answers r=<client nonce><combined nonce>."""
    server = ScramServer(SCRAM_SHA_256, {"user": rfc_credential()}.get, nonce=RFC_SERVER_NONCE)
    server_first = server.step(RFC_CLIENT_FIRST).decode()
    without_proof = f"c=biws,r=rOprNGfwEbeRWgbNEkqO{server_first.split(',')[0][2:]}"
    auth_message = f"{RFC_CLIENT_FIRST.decode()[3:]},{server_first},{without_proof}".encode()
    m = SCRAM_SHA_256
    client_key = m.hmac(salted_password(m, "pencil", RFC_SALT, 4096), b"Client Key")
    signature = m.hmac(m.digest(client_key), auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    final = f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
    assert server.step(final).startswith(b"v=")
    assert server.complete


def test_no_third_message() -> None:
    server = ScramServer(SCRAM_SHA_256, {"user": rfc_credential()}.get, nonce=RFC_SERVER_NONCE)
    server.step(RFC_CLIENT_FIRST)
    server.step(RFC_CLIENT_FINAL)
    with pytest.raises(ScramError, match="after the exchange"):
        server.step(RFC_CLIENT_FINAL)


def test_saslname_escapes_round_trip() -> None:
    assert decode_saslname(encode_saslname("a,b=c")) == "a,b=c"
    assert encode_saslname("a,b=c") == "a=2Cb=3Dc"


def test_credentials_never_show_key_material_in_repr() -> None:
    credential = rfc_credential()
    assert credential.salt.hex() not in repr(credential)
    assert "hidden" in repr(credential)


def plain_server() -> PlainServer:
    """alice has only a SCRAM-SHA-512 credential; PLAIN checks against it."""
    stored = {"alice": {"SCRAM-SHA-512": new_credential(SCRAM_SHA_512, "pw", iterations=4096)}}
    return PlainServer(lambda user: stored.get(user, {}))


def test_plain_checks_the_password_against_a_stored_scram_credential() -> None:
    server = plain_server()
    assert server.step(b"\0alice\0pw") == b""
    assert server.complete and server.username == "alice"
    assert plain_server().step(b"alice\0alice\0pw") == b""  # authzid equal to the user


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (b"\0alice\0wrong", "Authentication failed: Invalid username or password"),
        (b"\0bob\0pw", "Authentication failed: Invalid username or password"),
        (b"\0\0pw", "Authentication failed: username not specified"),
        (b"\0alice\0", "Authentication failed: password not specified"),
        (b"bob\0alice\0pw", "different from username"),
        (b"alice\0pw", "expected 3 tokens, got 2"),
    ],
)
def test_plain_failures_carry_kafkas_messages(token: bytes, message: str) -> None:
    with pytest.raises(PlainFailure) as info:
        plain_server().step(token)
    assert message in info.value.client_message
