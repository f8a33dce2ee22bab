"""Plans (operators): quotas (Kafka's client quota keys) and limits; unset is unlimited.
Changing one reconciles every tenant on it."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from console import services
from console.api.schemas import INT32_MAX, INT64_MAX, Text, responses
from console.selectors import plans as selectors
from console.selectors.plans import PlanRow

router = Router(tags=["plans"])

BigInt = Annotated[int, Field(ge=1, le=INT64_MAX)] | None
Int = Annotated[int, Field(ge=1, le=INT32_MAX)] | None
Rate = Annotated[float, Field(gt=0, allow_inf_nan=False)] | None


class PlanValues(Schema):
    producer_byte_rate: BigInt = None
    consumer_byte_rate: BigInt = None
    request_percentage: Rate = None
    controller_mutation_rate: Rate = None
    max_topics: Int = None
    max_partitions: Int = None
    max_retention_ms: BigInt = None
    max_message_bytes: Int = None


class PlanIn(PlanValues):
    name: Text(64)


class PlanOut(PlanValues):
    name: str
    tenant_count: int = Field(description="active tenants on the plan")


def plan_out(row: PlanRow) -> dict[str, Any]:
    return row.plan.snapshot() | {"tenant_count": row.tenants}


@router.get("", response=responses(list[PlanOut]), summary="List plans")
def plan_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [plan_out(row) for row in selectors.plan_list(actor=request.auth)]


@router.post("", response=responses(PlanOut, 201), summary="Create a plan")
def plan_create(request: HttpRequest, payload: PlanIn) -> Status[dict[str, Any]]:
    values = payload.dict()
    plan = services.plan_create(actor=request.auth, **values)
    return Status(201, plan_out(selectors.plan_get(actor=request.auth, name=plan.name)))


@router.get("/{name}", response=responses(PlanOut), summary="Get a plan")
def plan_get(request: HttpRequest, name: str) -> dict[str, Any]:
    return plan_out(selectors.plan_get(actor=request.auth, name=name))


@router.patch("/{name}", response=responses(PlanOut), summary="Change a plan")
def plan_update(request: HttpRequest, name: str, payload: PlanValues) -> dict[str, Any]:
    """Only the fields given change (null: unlimited)."""
    services.plan_update(actor=request.auth, name=name, **payload.dict(exclude_unset=True))
    return plan_out(selectors.plan_get(actor=request.auth, name=name))
