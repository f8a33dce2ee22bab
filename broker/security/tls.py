"""TLS for SSL and SASL_SSL listeners: server contexts from Kafka's ``ssl.*`` settings.

Key stores and trust stores are PEM (KIP-651: ``ssl.keystore.type=PEM``) or PKCS12:

- ``ssl.keystore.location``: a PEM file holding the private key and the certificate
  chain (or a PKCS12 file, with ``ssl.keystore.password``); or, inline,
  ``ssl.keystore.key`` and ``ssl.keystore.certificate.chain`` (PEM text);
  ``ssl.key.password`` decrypts an encrypted key.
- ``ssl.truststore.location`` (PEM bundle or PKCS12) or ``ssl.truststore.certificates``
  (PEM text): the CAs client certificates must chain to.
- ``ssl.client.auth``: ``none``, ``requested`` (a certificate is asked for, not
  required) or ``required``.
- ``ssl.enabled.protocols``: the lowest and highest listed version bound the handshake
  (default ``TLSv1.2,TLSv1.3``).

Inline or PKCS12 key material reaches OpenSSL through an anonymous in-memory file
(``memfd``), never a file on disk. A client that presented a certificate is
``User:<subject DN>`` in RFC 2253 form, most specific RDN first (``User:CN=alice,O=acme``),
Kafka's default principal for SSL (no ``ssl.principal.mapping.rules`` yet).
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
STORE_TYPES = ("PEM", "PKCS12")


class TlsConfigError(ValueError):
    """A TLS setting cannot be used; the message names the listener and the key."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """The ``ssl.*`` settings one listener resolved (listener-prefixed ones win)."""

    listener_name: str
    keystore_type: str = "PEM"
    keystore_location: str | None = None
    keystore_password: str | None = None
    keystore_key: str | None = None
    keystore_certificate_chain: str | None = None
    key_password: str | None = None
    truststore_type: str = "PEM"
    truststore_location: str | None = None
    truststore_password: str | None = None
    truststore_certificates: str | None = None
    client_auth: str = "none"
    enabled_protocols: tuple[str, ...] = ("TLSv1.2", "TLSv1.3")

    def __repr__(self) -> str:  # keys and passwords stay out of logs
        return f"TlsSettings(listener={self.listener_name}, client_auth={self.client_auth})"


@contextlib.contextmanager
def _memory_file(data: bytes) -> Iterator[str]:
    """A path OpenSSL can open whose content never touches a disk (Linux memfd)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("headwater-tls", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as directory:  # pragma: no cover (not Linux)
        path = Path(directory) / "key.pem"
        path.touch(mode=0o600)
        path.write_bytes(data)
        yield str(path)


def _read(settings: TlsSettings, path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(
            f"listener {settings.listener_name}: {key} {path}: {exc.strerror}"
        ) from None


def _pkcs12(settings: TlsSettings, data: bytes, password: str | None, key: str):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        return pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as exc:
        raise TlsConfigError(f"listener {settings.listener_name}: {key}: {exc}") from None


def _load_keystore(context: ssl.SSLContext, s: TlsSettings) -> None:
    name = s.listener_name
    if s.keystore_type not in STORE_TYPES:
        raise TlsConfigError(
            f"listener {name}: ssl.keystore.type {s.keystore_type} is not supported "
            f"(use {' or '.join(STORE_TYPES)})"
        )
    if s.keystore_location and (s.keystore_key or s.keystore_certificate_chain):
        raise TlsConfigError(
            f"listener {name}: set ssl.keystore.location or ssl.keystore.key with "
            "ssl.keystore.certificate.chain, not both"
        )
    password = s.key_password or s.keystore_password
    if s.keystore_type == "PKCS12":
        if not s.keystore_location:
            raise TlsConfigError(f"listener {name}: ssl.keystore.location is required")
        data = _read(s, s.keystore_location, "ssl.keystore.location")
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        key, cert, chain = _pkcs12(s, data, s.keystore_password, "ssl.keystore.location")
        if key is None or cert is None:
            raise TlsConfigError(f"listener {name}: the PKCS12 keystore has no key entry")
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()) + b"".join(
            c.public_bytes(Encoding.PEM) for c in (cert, *chain)
        )
        with _memory_file(pem) as path:
            context.load_cert_chain(path)
        return
    if s.keystore_location:
        _read(s, s.keystore_location, "ssl.keystore.location")  # a clear error if missing
        context.load_cert_chain(s.keystore_location, password=password)
    elif s.keystore_key and s.keystore_certificate_chain:
        pem = f"{s.keystore_key.strip()}\n{s.keystore_certificate_chain.strip()}\n".encode()
        with _memory_file(pem) as path:
            context.load_cert_chain(path, password=password)
    else:
        raise TlsConfigError(
            f"listener {name}: a TLS listener needs ssl.keystore.location, or "
            "ssl.keystore.key and ssl.keystore.certificate.chain"
        )


def _load_truststore(context: ssl.SSLContext, s: TlsSettings) -> bool:
    if s.truststore_type not in STORE_TYPES:
        raise TlsConfigError(
            f"listener {s.listener_name}: ssl.truststore.type {s.truststore_type} is not "
            f"supported (use {' or '.join(STORE_TYPES)})"
        )
    if s.truststore_certificates:
        context.load_verify_locations(cadata=s.truststore_certificates)
        return True
    if not s.truststore_location:
        return False
    data = _read(s, s.truststore_location, "ssl.truststore.location")
    if s.truststore_type == "PKCS12":
        from cryptography.hazmat.primitives.serialization import Encoding

        _key, cert, extra = _pkcs12(s, data, s.truststore_password, "ssl.truststore.location")
        certs = [c for c in (cert, *extra) if c is not None]
        context.load_verify_locations(
            cadata="".join(c.public_bytes(Encoding.PEM).decode() for c in certs)
        )
    else:
        context.load_verify_locations(cadata=data.decode("ascii", errors="replace"))
    return True


def server_context(settings: TlsSettings) -> ssl.SSLContext:
    """An SSLContext for one listener; raises :class:`TlsConfigError` naming the setting."""
    name = settings.listener_name
    if settings.client_auth not in CLIENT_AUTH:
        raise TlsConfigError(
            f"listener {name}: ssl.client.auth must be none, requested or required, "
            f"got {settings.client_auth!r}"
        )
    unknown = [p for p in settings.enabled_protocols if p not in TLS_VERSIONS]
    if unknown or not settings.enabled_protocols:
        raise TlsConfigError(
            f"listener {name}: ssl.enabled.protocols: unsupported {','.join(unknown) or '(none)'}"
            f" (supported: {','.join(TLS_VERSIONS)})"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    versions = sorted(TLS_VERSIONS[p] for p in settings.enabled_protocols)
    context.minimum_version, context.maximum_version = versions[0], versions[-1]
    try:
        _load_keystore(context, settings)
        has_truststore = _load_truststore(context, settings)
    except ssl.SSLError as exc:
        raise TlsConfigError(
            f"listener {name}: cannot load the TLS key or certificates: {exc}"
        ) from None
    context.verify_mode = CLIENT_AUTH[settings.client_auth]
    if context.verify_mode != ssl.CERT_NONE and not has_truststore:
        raise TlsConfigError(
            f"listener {name}: ssl.client.auth={settings.client_auth} needs "
            "ssl.truststore.location or ssl.truststore.certificates"
        )
    return context


def principal_from_certificate(der: bytes | None) -> str | None:
    """``User:<RFC 2253 subject>`` of a DER client certificate; None without one."""
    if not der:
        return None
    from cryptography import x509

    subject = x509.load_der_x509_certificate(der).subject
    return f"User:{subject.rfc4514_string()}"
