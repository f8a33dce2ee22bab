"""The REST API under ``/api/v1/`` (django-ninja): one module per resource.

Endpoints only parse (ninja's schemas) and delegate to :mod:`console.services` and
:mod:`console.selectors` with ``actor=request.auth``, so roles and tenant scoping are
the pages' own; :mod:`console.api.errors` turns every failure into JSON.
"""
