"""SCRAM logins over raw sockets from a chosen source address, one or many at a time.

Connection-limit tests and ``bench/connection_flood.py`` need clients that bind their
source address (``127.0.0.2`` is another host to the broker, which listens on
127.0.0.1; all of 127.0.0.0/8 reaches it), which no Kafka client library offers. A
login here is what any SASL client sends: SaslHandshake v1, then two SaslAuthenticate
v1 requests carrying the SCRAM client-first and client-final messages (RFC 5802). The
salted password is computed once per (password, salt, iterations) and cached, so a
flood measures the broker, not the client's PBKDF2.

Each attempt ends in one :class:`Outcome`: the broker authenticated it, refused the
password (SASL_AUTHENTICATION_FAILED), closed the connection before answering (a
connection limit: refused at once, or throttled and closed later) or did not answer
within the timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import functools
import secrets
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kio.schema.sasl_authenticate.v1.request import SaslAuthenticateRequest
from kio.schema.sasl_authenticate.v1.response import SaslAuthenticateResponse
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest
from kio.schema.sasl_handshake.v1.response import SaslHandshakeResponse
from kio.serial import entity_reader

from broker.security.scram import MECHANISMS, salted_password
from tests.support.raw_wire import encode_request

E = TypeVar("E")
SASL_AUTHENTICATION_FAILED = 58


class Outcome(enum.Enum):
    AUTHENTICATED = "authenticated"
    FAILED = "failed"
    """The broker answered SASL_AUTHENTICATION_FAILED (it did the work of checking)."""
    CLOSED = "closed"
    """The connection closed (or was reset, or could not be made) before an answer."""
    TIMEOUT = "timeout"


@functools.lru_cache(maxsize=64)
def _salted(mechanism: str, password: str, salt: bytes, iterations: int) -> bytes:
    return salted_password(MECHANISMS[mechanism], password, salt, iterations)


class _Exchange:
    """One connection's request/response round trips (non-flexible versions only)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.correlation_id = 0

    async def request(self, body: Any, response_type: type[E]) -> E:
        self.correlation_id += 1
        self.writer.write(encode_request(body, correlation_id=self.correlation_id))
        (size,) = struct.unpack(">i", await self.reader.readexactly(4))
        payload = await self.reader.readexactly(size)
        response, _ = entity_reader(response_type)(payload, 4)  # after the v0 header
        return response


def client_final(mechanism: str, password: str, client_first_bare: str, server_first: str) -> str:
    """The SCRAM client-final message answering ``server_first``."""
    scram = MECHANISMS[mechanism]
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    salted = _salted(mechanism, password, base64.b64decode(fields["s"]), int(fields["i"]))
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    client_key = scram.hmac(salted, b"Client Key")
    signature = scram.hmac(scram.digest(client_key), auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return f"{without_proof},p={base64.b64encode(proof).decode()}"


async def _login(exchange: _Exchange, mechanism: str, user: str, password: str) -> Outcome:
    handshake = await exchange.request(
        SaslHandshakeRequest(mechanism=mechanism), SaslHandshakeResponse
    )
    if handshake.error_code:
        return Outcome.FAILED
    client_first_bare = f"n={user},r={secrets.token_urlsafe(18)}"
    first = await exchange.request(
        SaslAuthenticateRequest(auth_bytes=f"n,,{client_first_bare}".encode()),
        SaslAuthenticateResponse,
    )
    if first.error_code:
        return Outcome.FAILED
    final = client_final(mechanism, password, client_first_bare, first.auth_bytes.decode())
    second = await exchange.request(
        SaslAuthenticateRequest(auth_bytes=final.encode()), SaslAuthenticateResponse
    )
    if second.error_code == SASL_AUTHENTICATION_FAILED:
        return Outcome.FAILED
    return Outcome.AUTHENTICATED if second.error_code == 0 else Outcome.FAILED


async def scram_login(
    host: str,
    port: int,
    user: str,
    password: str,
    *,
    source: str | None = None,
    mechanism: str = "SCRAM-SHA-256",
    timeout: float = 10.0,
) -> Outcome:
    """One SCRAM login on a new connection from ``source`` (an address to bind)."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, local_addr=(source, 0) if source else None
            )
            return await _login(_Exchange(reader, writer), mechanism, user, password)
    except TimeoutError:
        return Outcome.TIMEOUT
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        return Outcome.CLOSED
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@dataclass
class FloodResult:
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def attempts(self) -> int:
        return sum(self.outcomes.values())

    @property
    def rate(self) -> float:
        return self.attempts / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            **{outcome.value: self.outcomes[outcome] for outcome in Outcome},
        }


async def flood(
    host: str,
    port: int,
    *,
    attempts: int,
    concurrency: int,
    source: str,
    user: str = "alice",
    password: str = "not-the-password",
    timeout: float = 10.0,
) -> FloodResult:
    """``attempts`` logins from ``source``, ``concurrency`` at a time, each on a new
    connection opened as soon as the previous one ended (as a password guesser does)."""
    result = FloodResult()
    remaining = attempts

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            outcome = await scram_login(host, port, user, password, source=source, timeout=timeout)
            result.outcomes[outcome] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result
