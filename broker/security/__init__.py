"""Authentication: TLS listeners, SASL (PLAIN, SCRAM-SHA-256/512) and SCRAM credentials.

Sans-IO like the protocol package: nothing here reads a socket. ``tls`` builds listener
SSL contexts and names certificate principals; ``scram`` and ``plain`` are the SASL
mechanisms; ``sasl`` is one connection's authentication state machine; ``credentials``
holds Kafka's rules for managing SCRAM credentials. See docs/security.md.
"""
