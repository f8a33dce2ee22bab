"""SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677): credentials and the server side.

What a broker keeps per user and mechanism is a :class:`ScramCredential`: the salt, the
iteration count, ``StoredKey = H(HMAC(SaltedPassword, "Client Key"))`` and
``ServerKey = HMAC(SaltedPassword, "Server Key")``. Neither the password nor the salted
password can be recovered from them, yet they suffice to check a client's proof and
to prove the server's own knowledge (the server signature), which is the point of
SCRAM. Kafka stores exactly these four values (its ``UserScramCredentialRecord``).

:class:`ScramServer` is the sans-IO server half of one exchange::

    client-first  n,,n=alice,r=<client nonce>
    server-first  r=<client nonce><server nonce>,s=<salt b64>,i=<iterations>
    client-final  c=biws,r=<both nonces>,p=<proof b64>
    server-final  v=<server signature b64>

An unknown user is not revealed at the first message: the exchange continues with a
made-up salt (stable per user name for this process) and fails at the proof like a
wrong password, as RFC 5802 section 5.1 suggests. Channel binding (the -PLUS variants)
is not offered; a client asking for it (``p=``) fails. Passwords are the UTF-8 bytes
the client sends (no SASLprep), as Kafka and librdkafka do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MIN_ITERATIONS = 4096
"""Kafka's minimum for both SCRAM mechanisms (``ScramMechanism.minIterations``)."""
MAX_ITERATIONS = 16384
"""Kafka's ``ScramControlManager.MAX_ITERATIONS``."""
DEFAULT_ITERATIONS = 8192
SALT_BYTES = 32


@dataclass(frozen=True, slots=True)
class ScramMechanism:
    name: str
    type_code: int
    """The ``mechanism`` int8 of Describe/AlterUserScramCredentials (KIP-554)."""
    hash_name: str

    def digest(self, data: bytes) -> bytes:
        return hashlib.new(self.hash_name, data).digest()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.hash_name).digest()


SCRAM_SHA_256 = ScramMechanism("SCRAM-SHA-256", 1, "sha256")
SCRAM_SHA_512 = ScramMechanism("SCRAM-SHA-512", 2, "sha512")
MECHANISMS = {m.name: m for m in (SCRAM_SHA_256, SCRAM_SHA_512)}
MECHANISMS_BY_CODE = {m.type_code: m for m in MECHANISMS.values()}


class CredentialLike(Protocol):
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int


@dataclass(frozen=True, slots=True)
class ScramCredential:
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int

    def __repr__(self) -> str:  # never print key material
        return f"ScramCredential(iterations={self.iterations}, salt=<hidden>, keys=<hidden>)"


def salted_password(
    mechanism: ScramMechanism, password: str, salt: bytes, iterations: int
) -> bytes:
    """``Hi(password, salt, i)``: PBKDF2 with the mechanism's HMAC."""
    return hashlib.pbkdf2_hmac(mechanism.hash_name, password.encode(), salt, iterations)


def credential_from_salted_password(
    mechanism: ScramMechanism, salted: bytes, salt: bytes, iterations: int
) -> ScramCredential:
    """What AlterUserScramCredentials does with the client-computed salted password."""
    client_key = mechanism.hmac(salted, b"Client Key")
    return ScramCredential(
        salt=salt,
        stored_key=mechanism.digest(client_key),
        server_key=mechanism.hmac(salted, b"Server Key"),
        iterations=iterations,
    )


def new_credential(
    mechanism: ScramMechanism,
    password: str,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    salt: bytes | None = None,
) -> ScramCredential:
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    salted = salted_password(mechanism, password, salt, iterations)
    return credential_from_salted_password(mechanism, salted, salt, iterations)


def password_matches(mechanism: ScramMechanism, credential: CredentialLike, password: str) -> bool:
    """Recompute the stored key from ``password`` (SASL/PLAIN against a SCRAM credential)."""
    salted = salted_password(mechanism, password, credential.salt, credential.iterations)
    client_key = mechanism.hmac(salted, b"Client Key")
    return hmac.compare_digest(mechanism.digest(client_key), credential.stored_key)


class ScramError(Exception):
    """The exchange failed; ``reason`` is for the broker's log, never for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ScramError(f"{what} is not valid base64") from None


def decode_saslname(text: str) -> str:
    """RFC 5802 ``saslname``: ``=2C`` is ``,`` and ``=3D`` is ``=``; other ``=`` is invalid."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "=":
            escape = text[i : i + 3]
            if escape not in ("=2C", "=3D"):
                raise ScramError("invalid escape in user name")
            out.append("," if escape == "=2C" else "=")
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def encode_saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _attributes(message: str, *, extensions_from: int | None = None) -> list[tuple[str, str]]:
    """``a=value`` pairs; from index ``extensions_from`` on, Kafka's SCRAM extensions
    (``tokenauth=true``) may have longer names."""
    pairs = []
    for index, item in enumerate(message.split(",")):
        key, sep, value = item.partition("=")
        long_name = extensions_from is not None and index >= extensions_from
        if not sep or not key or (len(key) != 1 and not long_name):
            raise ScramError(f"malformed attribute {item[:20]!r}")
        pairs.append((key, value))
    return pairs


_FAKE_SECRET = os.urandom(32)


def _fake_credential(mechanism: ScramMechanism, username: str) -> ScramCredential:
    """A credential no password matches, with a salt that is stable per user name."""
    salt = hmac.new(_FAKE_SECRET, f"{mechanism.name}/{username}".encode(), "sha256").digest()
    return ScramCredential(salt, os.urandom(32), os.urandom(32), DEFAULT_ITERATIONS)


Lookup = Callable[[str], CredentialLike | None]


class ScramServer:
    """One server-side SCRAM exchange. :meth:`step` takes each client message and
    returns the server's answer; after the second it is :attr:`complete`."""

    def __init__(self, mechanism: ScramMechanism, lookup: Lookup, *, nonce: str | None = None):
        self.mechanism = mechanism
        self._lookup = lookup
        self._server_nonce = nonce or secrets.token_urlsafe(24)
        self.username: str | None = None
        self.complete = False
        self._state = 0
        self._credential: CredentialLike | None = None
        self._known = False
        self._gs2_header = ""
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""

    def step(self, token: bytes) -> bytes:
        try:
            message = token.decode("utf-8")
        except UnicodeDecodeError:
            raise ScramError("message is not UTF-8") from None
        if self._state == 0:
            self._state = 1
            return self._client_first(message).encode()
        if self._state == 1:
            self._state = 2
            answer = self._client_final(message)
            self.complete = True
            return answer.encode()
        raise ScramError("unexpected message after the exchange completed")

    def _client_first(self, message: str) -> str:
        cbind, sep, rest = message.partition(",")
        authzid, sep2, bare = rest.partition(",")
        if not (sep and sep2):
            raise ScramError("client-first-message lacks a GS2 header")
        if cbind.startswith("p="):
            raise ScramError("channel binding requested, but no -PLUS mechanism is offered")
        if cbind not in ("n", "y"):
            raise ScramError("invalid GS2 channel binding flag")
        if authzid and not authzid.startswith("a="):
            raise ScramError("invalid GS2 authorization identity")
        attributes = _attributes(bare, extensions_from=2)
        if len(attributes) < 2 or attributes[0][0] != "n" or attributes[1][0] != "r":
            raise ScramError("client-first-message must start with n= and r=")
        username = decode_saslname(attributes[0][1])
        self.username = username
        client_nonce = attributes[1][1]
        if not username or not client_nonce:
            raise ScramError("empty user name or nonce")
        if authzid and decode_saslname(authzid[2:]) != username:
            raise ScramError("authorization id differs from the user name")
        extensions = dict(attributes[2:])
        if extensions.get("tokenauth", "false").lower() == "true":
            raise ScramError("delegation tokens are not supported")
        self._gs2_header = f"{cbind},{authzid},"
        self._client_first_bare = bare
        self._nonce = client_nonce + self._server_nonce
        credential = self._lookup(username)
        self._known = credential is not None
        if credential is None:
            credential = _fake_credential(self.mechanism, username)
        self._credential = credential
        self._server_first = f"r={self._nonce},s={_b64(credential.salt)},i={credential.iterations}"
        return self._server_first

    def _client_final(self, message: str) -> str:
        without_proof, sep, proof_text = message.rpartition(",p=")
        if not sep:
            raise ScramError("client-final-message has no proof")
        attributes = dict(_attributes(without_proof))
        expected_binding = _b64(self._gs2_header.encode())
        if attributes.get("c") != expected_binding:
            raise ScramError("channel binding data does not match the GS2 header")
        # librdkafka 2.0 (Debian 12's kcat) sends its own nonce again before the
        # combined one; Kafka accepted that (endsWith) for years, so the tail must match.
        if not attributes.get("r", "").endswith(self._nonce):
            raise ScramError("invalid nonce in client-final-message")
        proof = _unb64(proof_text, "client proof")
        auth_message = ",".join((self._client_first_bare, self._server_first, without_proof))
        credential = self._credential
        assert credential is not None
        m = self.mechanism
        signature = m.hmac(credential.stored_key, auth_message.encode())
        if len(proof) != len(signature):
            raise ScramError("client proof has the wrong length")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(m.digest(client_key), credential.stored_key):
            raise ScramError("invalid credentials" if self._known else "unknown user")
        server_signature = m.hmac(credential.server_key, auth_message.encode())
        return f"v={_b64(server_signature)}"
