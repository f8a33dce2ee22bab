"""Server TLS contexts from PEM files, inline PEM and PKCS12; errors that name the setting."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    load_pem_private_key,
    pkcs12,
)
from cryptography.x509 import load_pem_x509_certificate

from broker.security.tls import (
    TlsConfigError,
    TlsSettings,
    principal_from_certificate,
    server_context,
)
from tests.broker.security.conftest import Pki


def test_pem_file_inline_pem_and_encrypted_key(pki: Pki, tmp_path: Path) -> None:
    assert server_context(TlsSettings("SSL", keystore_location=str(pki.server.bundle)))
    inline = TlsSettings(
        "SSL",
        keystore_key=pki.server.key_pem,
        keystore_certificate_chain=pki.server.certificate_pem,
        truststore_certificates=pki.ca.certificate.read_text(),
        client_auth="requested",
    )
    assert server_context(inline).verify_mode == ssl.CERT_OPTIONAL
    encrypted = pki.ca.issue_server("locked", key_password=b"key-pw")
    settings = TlsSettings("SSL", keystore_location=str(encrypted.bundle), key_password="key-pw")
    assert server_context(settings)
    with pytest.raises(TlsConfigError, match="listener SSL: cannot load the TLS key"):
        server_context(
            TlsSettings("SSL", keystore_location=str(encrypted.bundle), key_password="no")
        )


def test_pkcs12_keystore_and_truststore(pki: Pki, tmp_path: Path) -> None:
    key = load_pem_private_key(pki.server.key.read_bytes(), None)
    cert = load_pem_x509_certificate(pki.server.certificate.read_bytes())
    ca = load_pem_x509_certificate(pki.ca.certificate.read_bytes())
    keystore = tmp_path / "server.p12"
    keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"server",
            key,
            cert,
            [ca],
            BestAvailableEncryption(b"store-pw"),  # type: ignore[arg-type]
        )
    )
    truststore = tmp_path / "trust.p12"
    truststore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ca", None, None, [ca], BestAvailableEncryption(b"t")
        )
    )
    settings = TlsSettings(
        "SSL",
        keystore_type="PKCS12",
        keystore_location=str(keystore),
        keystore_password="store-pw",
        truststore_type="PKCS12",
        truststore_location=str(truststore),
        truststore_password="t",
        client_auth="required",
    )
    assert server_context(settings).verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (TlsSettings("SSL"), "needs ssl.keystore.location"),
        (TlsSettings("SSL", keystore_location="/nonexistent.pem"), "No such file"),
        (TlsSettings("SSL", keystore_type="JKS", keystore_location="x"), "JKS is not supported"),
        (TlsSettings("SSL", client_auth="always"), "must be none, requested or required"),
        (TlsSettings("SSL", enabled_protocols=("SSLv3",)), "unsupported SSLv3"),
    ],
)
def test_unusable_settings_name_the_listener_and_key(settings: TlsSettings, message: str) -> None:
    with pytest.raises(TlsConfigError, match=message):
        server_context(settings)


def test_client_auth_without_a_truststore_is_refused(pki: Pki) -> None:
    settings = TlsSettings("MTLS", keystore_location=str(pki.server.bundle), client_auth="required")
    with pytest.raises(
        TlsConfigError, match=r"MTLS: ssl\.client\.auth=required needs ssl\.truststore"
    ):
        server_context(settings)


def test_principal_is_the_rfc_2253_subject(pki: Pki) -> None:
    cert = load_pem_x509_certificate(pki.alice.certificate.read_bytes())
    assert principal_from_certificate(cert.public_bytes(Encoding.DER)) == "User:CN=alice,O=acme"
    assert principal_from_certificate(None) is None
