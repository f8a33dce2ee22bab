"""ApiVersions (key 18): the versions of every API this broker serves.

Generated from the handler registry. A request at a version above ours is answered in
the v0 body format with UNSUPPORTED_VERSION and our range, so clients retry lower.
"""

from __future__ import annotations

import datetime

from kio.schema.api_versions.v0 import response as v0

from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def api_version_entries(ctx: RequestContext, entry_type: type) -> tuple:
    return tuple(
        build(entry_type, api_key=h.api_key, min_version=h.min_version, max_version=h.max_version)
        for h in ctx.registry
    )


def unsupported_version_response(ctx: RequestContext) -> v0.ApiVersionsResponse:
    return v0.ApiVersionsResponse(
        error_code=ErrorCode.unsupported_version,
        api_keys=api_version_entries(ctx, v0.ApiVersion),
    )


@api(key=18, min_version=0, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    return build(
        response.ApiVersionsResponse,
        error_code=ErrorCode.none,
        api_keys=api_version_entries(ctx, response.ApiVersion),
        throttle_time=datetime.timedelta(0),
    )
