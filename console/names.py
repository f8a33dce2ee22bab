"""Names a tenant owns: slugs, prefixes, service-account (SCRAM user) names.

The rule (docs/console.md, "Names"): a slug is 2 to 32 lowercase letters and digits,
starting with a letter, and not a reserved word. With no ``.`` in a slug, the prefix
``<slug>.`` of one tenant is never the start of another's (``acme.`` vs ``acme.eu.``
would need slug ``acme.eu``); with no ``-`` in a slug, the SCRAM user ``<slug>-<name>``
names its tenant by its first ``-`` (``acme-eu-app`` is tenant ``acme``'s account
``eu-app``; a tenant ``acme-eu`` cannot exist); with no ``_`` in a slug, Kafka's rule
that ``.`` and ``_`` collide in metric names cannot make two tenants' topics collide.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from broker.common.topic_names import MAX_TOPIC_NAME_LENGTH as MAX_NAME_LENGTH

SLUG = re.compile(r"[a-z][a-z0-9]{1,31}")
ACCOUNT = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?")
RESERVED_SLUGS = frozenset({"admin", "headwater", "kafka", "console", "internal", "default"})
"""``headwater-console`` is the console's own SCRAM user; the others would mislead."""


def validate_slug(slug: str) -> None:
    if not SLUG.fullmatch(slug):
        raise ValidationError(
            f"{slug!r} is not a valid slug: 2 to 32 lowercase letters and digits, starting "
            "with a letter (no '.', '-' or '_': they would let one tenant's prefix or "
            "service-account names overlap another's).",
            code="invalid_slug",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"The slug {slug!r} is reserved.", code="reserved_slug")


def validate_account_name(name: str) -> None:
    if not ACCOUNT.fullmatch(name):
        raise ValidationError(
            f"{name!r} is not a valid service account name: 1 to 48 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit.",
            code="invalid_account_name",
        )


def validate_inside_prefix(name: str, prefix: str, *, what: str = "topic") -> None:
    """A resource name (or a PREFIXED pattern) the tenant with ``prefix`` may own."""
    if not name.startswith(prefix):
        raise ValidationError(
            f"The {what} name {name!r} is outside this tenant: it must start with {prefix!r}.",
            code="outside_prefix",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"The {what} name is {len(name)} characters; Kafka allows {MAX_NAME_LENGTH}.",
            code="too_long",
        )
