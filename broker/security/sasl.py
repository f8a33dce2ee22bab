"""Per-connection authentication state: who the client is and what it may send yet.

Every connection gets a :class:`ConnectionSecurity` from its listener. On PLAINTEXT and
SSL listeners it starts authenticated (``User:ANONYMOUS``, or the client certificate's
subject on SSL with client auth). On SASL_PLAINTEXT and SASL_SSL listeners it walks
Kafka's ``SaslServerAuthenticator`` states (KIP-43, KIP-152):

============== ===================================== =======================================
state          requests accepted                     next state
============== ===================================== =======================================
HANDSHAKE      ApiVersions, SaslHandshake            AUTHENTICATE (handshake v1),
                                                     AUTHENTICATE_RAW (v0), FAILED (unknown
                                                     mechanism)
AUTHENTICATE   SaslAuthenticate                      COMPLETE, FAILED
AUTHENTICATE_  raw size-prefixed SASL tokens, no     COMPLETE, FAILED
RAW            Kafka header (SaslHandshake v0)
COMPLETE       every API                             (no re-authentication: KIP-368 sessions
                                                     are not offered, session lifetime 0)
FAILED         nothing: the connection closes once   -
               the failure response is written
============== ===================================== =======================================

A request outside its state's list ends the connection with a log line, as Kafka does
("Unexpected Kafka request of type ... during SASL handshake"). SaslHandshake or
SaslAuthenticate on an authenticated connection (or a non-SASL listener) gets
ILLEGAL_SASL_STATE, as Kafka's request handler answers.

A failed login answers SASL_AUTHENTICATION_FAILED with Kafka's message, closes the
connection and logs the client address, listener, mechanism and the user name it
tried; never the password or any key material.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping

from broker.errors import BrokerError, ErrorCode
from broker.security.plain import CredentialsOf, PlainFailure, PlainServer
from broker.security.scram import MECHANISMS, ScramError, ScramServer

log = logging.getLogger(__name__)

ANONYMOUS = "User:ANONYMOUS"
PLAIN = "PLAIN"
SUPPORTED_MECHANISMS = (PLAIN, *MECHANISMS)
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36


class SaslState(enum.Enum):
    HANDSHAKE = "HANDSHAKE"
    AUTHENTICATE = "AUTHENTICATE"
    AUTHENTICATE_RAW = "AUTHENTICATE_RAW"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


_PERMITTED: Mapping[SaslState, frozenset[int]] = {
    SaslState.HANDSHAKE: frozenset({API_VERSIONS, SASL_HANDSHAKE}),
    SaslState.AUTHENTICATE: frozenset({SASL_AUTHENTICATE}),
    SaslState.AUTHENTICATE_RAW: frozenset(),
    SaslState.FAILED: frozenset(),
}


class AuthenticationFailed(BrokerError):
    """SASL_AUTHENTICATION_FAILED with the message the client gets."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.sasl_authentication_failed, message)


class ConnectionSecurity:
    """The security side of one connection. Owned by that connection's task."""

    def __init__(
        self,
        *,
        listener_name: str,
        security_protocol: str,
        client_address: str,
        mechanisms: tuple[str, ...] = (),
        credentials_of: CredentialsOf | None = None,
        principal: str = ANONYMOUS,
    ) -> None:
        self.listener_name = listener_name
        self.security_protocol = security_protocol
        self.client_address = client_address
        self.mechanisms = mechanisms
        self._credentials_of = credentials_of or (lambda _user: {})
        self.principal = principal
        self.mechanism: str | None = None
        self.close_after_response = False
        self._server: PlainServer | ScramServer | None = None
        self.state = (
            SaslState.HANDSHAKE if security_protocol in SASL_PROTOCOLS else SaslState.COMPLETE
        )

    @property
    def authenticated(self) -> bool:
        return self.state is SaslState.COMPLETE

    @property
    def failed(self) -> bool:
        return self.state is SaslState.FAILED

    @property
    def expects_raw_tokens(self) -> bool:
        """After SaslHandshake v0, frames are bare SASL tokens, not Kafka requests."""
        return self.state is SaslState.AUTHENTICATE_RAW

    @property
    def slow_step(self) -> bool:
        """The next token costs a PBKDF2 run (PLAIN): worth running off the event loop."""
        return self.mechanism == PLAIN

    def permits(self, api_key: int) -> bool:
        allowed = _PERMITTED.get(self.state)
        return allowed is None or api_key in allowed

    def rejection(self, api_name: str) -> str:
        """The log line for a request :meth:`permits` refused."""
        during = "SASL handshake" if self.state is SaslState.HANDSHAKE else "SASL authentication"
        return f"Unexpected Kafka request of type {api_name} during {during}"

    def handshake(self, mechanism: str, version: int) -> ErrorCode:
        """SaslHandshake: choose the mechanism; the reply lists :attr:`mechanisms`."""
        if self.state is not SaslState.HANDSHAKE:
            return ErrorCode.illegal_sasl_state
        if mechanism not in self.mechanisms:
            self._fail()
            log.warning(
                "Failed authentication with %s (listener %s): SASL mechanism %r requested "
                "by the client is not enabled (enabled: %s)",
                self.client_address,
                self.listener_name,
                mechanism,
                ",".join(self.mechanisms),
            )
            return ErrorCode.unsupported_sasl_mechanism
        self.mechanism = mechanism
        if mechanism == PLAIN:
            self._server = PlainServer(self._credentials_of)
        else:
            scram = MECHANISMS[mechanism]
            credentials_of = self._credentials_of
            self._server = ScramServer(scram, lambda user: credentials_of(user).get(scram.name))
        self.state = SaslState.AUTHENTICATE if version >= 1 else SaslState.AUTHENTICATE_RAW
        return ErrorCode.none

    def authenticate(self, token: bytes) -> bytes:
        """One SASL token in, the server's token out; completes or fails the login.

        Raises :class:`AuthenticationFailed` (the connection must close after the
        response) or a :class:`BrokerError` with ILLEGAL_SASL_STATE.
        """
        if self.state not in (SaslState.AUTHENTICATE, SaslState.AUTHENTICATE_RAW):
            raise BrokerError(
                ErrorCode.illegal_sasl_state,
                "SaslAuthenticate request received after successful authentication"
                if self.state is SaslState.COMPLETE
                else "Unexpected SaslAuthenticate request",
            )
        server = self._server
        assert server is not None and self.mechanism is not None
        try:
            answer = server.step(token)
        except ScramError as exc:
            self._fail()
            log.warning(
                "Failed authentication with %s (listener %s, mechanism %s, principal "
                "attempted %r): %s",
                self.client_address,
                self.listener_name,
                self.mechanism,
                server.username,
                exc.reason,
            )
            if isinstance(exc, PlainFailure):
                raise AuthenticationFailed(exc.client_message) from None
            raise AuthenticationFailed(
                "Authentication failed during authentication due to invalid credentials "
                f"with SASL mechanism {self.mechanism}"
            ) from None
        if server.complete:
            self.state = SaslState.COMPLETE
            self.principal = f"User:{server.username}"
            self._server = None
            log.debug(
                "authenticated %s from %s on listener %s with %s",
                self.principal,
                self.client_address,
                self.listener_name,
                self.mechanism,
            )
        return answer

    def _fail(self) -> None:
        self.state = SaslState.FAILED
        self.close_after_response = True
        self._server = None
