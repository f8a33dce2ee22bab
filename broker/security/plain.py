"""SASL/PLAIN (RFC 4616) checked against the SCRAM credential store.

Kafka's PLAIN reads users and passwords from a JAAS file; Headwater keeps no second
user database and no plaintext password anywhere: a PLAIN login succeeds when the
password, salted and hashed with the parameters of one of the user's stored SCRAM
credentials (SCRAM-SHA-256 first), reproduces that credential's stored key. So every
user created for SCRAM can also log in with PLAIN, and deleting a user's SCRAM
credentials ends their PLAIN logins too.

The check costs one PBKDF2 run (thousands of HMACs), like the client's side of SCRAM;
an unknown user costs the same, so timing does not reveal which users exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from broker.security.scram import (
    DEFAULT_ITERATIONS,
    MECHANISMS,
    SCRAM_SHA_256,
    CredentialLike,
    ScramError,
    password_matches,
    salted_password,
)

CredentialsOf = Callable[[str], Mapping[str, CredentialLike]]
"""user name -> that user's SCRAM credentials by mechanism name."""

INVALID_CREDENTIALS = "Authentication failed: Invalid username or password"


class PlainFailure(ScramError):
    """A PLAIN failure whose message Kafka sends to the client as it is."""

    def __init__(self, reason: str, client_message: str) -> None:
        super().__init__(reason)
        self.client_message = client_message


def parse_plain(token: bytes) -> tuple[str, str, str]:
    """``authzid NUL authcid NUL passwd`` -> (authzid, username, password)."""
    try:
        text = token.decode("utf-8")
    except UnicodeDecodeError:
        raise PlainFailure("message is not UTF-8", INVALID_CREDENTIALS) from None
    parts = text.split("\0")
    if len(parts) != 3:
        message = f"Invalid SASL/PLAIN response: expected 3 tokens, got {len(parts)}"
        raise PlainFailure(message, message)
    return parts[0], parts[1], parts[2]


class PlainServer:
    """One PLAIN exchange: a single client message, an empty answer on success."""

    def __init__(self, credentials_of: CredentialsOf) -> None:
        self._credentials_of = credentials_of
        self.username: str | None = None
        self.complete = False

    def step(self, token: bytes) -> bytes:
        if self.complete:
            raise ScramError("unexpected message after the exchange completed")
        authzid, username, password = parse_plain(token)
        self.username = username or None
        if not username:
            raise PlainFailure("no user name", "Authentication failed: username not specified")
        if not password:
            raise PlainFailure("no password", "Authentication failed: password not specified")
        if authzid and authzid != username:
            raise PlainFailure(
                "authorization id differs from the user name",
                "Authentication failed: Client requested an authorization id that is "
                "different from username",
            )
        stored = self._credentials_of(username)
        names = sorted(stored, key=lambda name: name != SCRAM_SHA_256.name)
        name = next((n for n in names if n in MECHANISMS), None)
        if name is None:
            # Same work as a real check, so response times do not reveal unknown users.
            salted_password(SCRAM_SHA_256, password, b"\0" * 32, DEFAULT_ITERATIONS)
            raise PlainFailure("unknown user", INVALID_CREDENTIALS)
        if not password_matches(MECHANISMS[name], stored[name], password):
            raise PlainFailure("invalid password", INVALID_CREDENTIALS)
        self.complete = True
        return b""
