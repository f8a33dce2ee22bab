"""Django admin for operators: every console model, written through the services.

The admin is another client of :mod:`console.services`, like the pages: an add, change
or delete here is validated, audited and reconciled like any other. Each model's form
calls its service when it validates (:class:`ServiceForm`), so a service's
ValidationError is a form error, never a 500, and nothing is saved half-way; a model no
service can edit safely is read-only here. Audit events are read-only for everyone,
superusers included. A rotated secret is shown once, in the action's own response,
never stored (not in the session, not in a cookie).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control

from console import services
from console.broker_admin import SCRAM_MECHANISMS, BrokerAdminError
from console.models import (
    AccessRule,
    ApiToken,
    AuditEvent,
    Membership,
    Plan,
    ServiceAccount,
    ServiceAccountState,
    Tenant,
)
from console.services import Credential
from console.services import tokens as services_tokens
from console.tenancy import is_operator

admin.site.site_header = "Headwater administration"
admin.site.site_title = "Headwater"
admin.site.index_title = "Operators"

FAILED = "_console_service_failed"


class ServiceForm(forms.ModelForm):
    """A model form whose save is a service call, made while the form validates.

    ``apply`` (set per admin) returns the saved object or raises ValidationError, which
    lands on the form by field (or above it). The model's own ``full_clean`` is not run:
    the service holds the rules."""

    actor: Any = None
    apply: Callable[..., Model] | None = None
    result: Any = None

    def _post_clean(self) -> None:
        if self.errors or self.apply is None:
            return
        try:
            with transaction.atomic():  # a failing service leaves nothing behind
                saved = type(self).apply(self, self.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    self.add_error(name if name in self.fields else None, errors)
            else:
                self.add_error(None, exc)
        except BrokerAdminError as exc:
            self.add_error(None, f"The cluster refused or did not answer: {exc}")
        else:
            self.instance = saved


class OperatorAdmin(admin.ModelAdmin):
    """Console models are operators' business (staff: console.tenancy.is_operator), as on
    the pages; the services check again on every write."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_operator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request.user)


class ServiceAdmin(OperatorAdmin):
    """Saves are made by the form (its service); deletes call :meth:`delete_one`."""

    def apply(self, form: ServiceForm, data: dict[str, Any]) -> Model:  # pragma: no cover
        raise NotImplementedError

    def delete_one(self, request: HttpRequest, obj: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:  # fmt: skip
        kwargs.setdefault("form", ServiceForm)
        form = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        def apply(form_self: ServiceForm, data: dict[str, Any]) -> Model:
            return model_admin.apply(form_self, data)

        return type(form.__name__, (form,), {"actor": request.user, "apply": apply})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing to do: the service saved ``obj`` when the form validated."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """No inlines or many-to-many fields: the service wrote everything."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            with transaction.atomic():
                self.delete_one(request, obj)
        except ValidationError as exc:
            setattr(request, FAILED, True)
            messages.error(request, f"{obj} was not deleted: {' '.join(exc.messages)}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in list(queryset):
            self.delete_model(request, obj)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> Any:
        if getattr(request, FAILED, False):
            return HttpResponseRedirect(request.path.removesuffix("delete/"))
        return super().response_delete(request, obj_display, obj_id)


class ReadOnlyAdmin(OperatorAdmin):
    """Shown, never changed here (no service edits it this way)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(ServiceAdmin):
    list_display = ("name", "producer_byte_rate", "consumer_byte_rate", "request_percentage",
                    "max_topics", "max_partitions", "tenant_count")  # fmt: skip
    search_fields = ("name",)
    list_filter = ("max_topics",)
    fields = ("name", *Plan.QUOTA_KEYS, *Plan.LIMIT_FIELDS)

    @admin.display(description="tenants")
    def tenant_count(self, plan: Plan) -> int:
        return plan.tenants.count()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("name",) if obj is not None else ()  # the plan's key: not renamed

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tenants hold plans (PROTECT); no service deletes one

    def apply(self, form: ServiceForm, data: dict[str, Any]) -> Model:
        values = {k: data.get(k) for k in Plan.QUOTA_KEYS + Plan.LIMIT_FIELDS}
        if form.instance.pk is None:
            return services.plan_create(actor=form.actor, name=data["name"].strip(), **values)
        return services.plan_update(actor=form.actor, name=form.instance.name, **values)


class TenantForm(ServiceForm):
    class Meta:
        model = Tenant
        fields = ("name", "slug", "plan")


@admin.register(Tenant)
class TenantAdmin(ServiceAdmin):
    """Create (its first account's secret shown once) and delete through the services;
    changing a tenant has no service yet: read-only once created."""

    form = TenantForm
    list_display = ("slug", "name", "plan", "state", "ready_state", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("state", "ready_state", "plan")
    readonly_fields = ("state", "ready_state", "ready_reason", "ready_message", "created_at",
                       "generation", "observed_generation")  # fmt: skip

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["name", "slug", "plan"] + (list(self.readonly_fields) if obj else [])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("name", "slug", "plan", *self.readonly_fields) if obj else ()

    def apply(self, form: ServiceForm, data: dict[str, Any]) -> Model:
        if form.instance.pk is not None:
            return form.instance  # read-only once created
        created = services.tenant_create(
            actor=form.actor, name=data["name"], slug=data["slug"], plan=data["plan"].name
        )
        form.result = created.credential
        return created.tenant

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        return secret_page(request, _credentials(request), f"Tenant {obj} created")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        _keep_credential(request, form)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """The reconciler removes the tenant's resources: confirm the tenants only."""
        shown = [f"Tenant: {o} (its topics, groups, accounts, ACLs and quotas)" for o in objs]
        return shown, {}, set(), []

    def delete_one(self, request: HttpRequest, obj: Tenant) -> None:
        services.tenant_delete(actor=request.user, slug=obj.slug, confirm_slug=obj.slug)
        messages.info(request, f"Tenant {obj.slug} is being deleted: the reconciler removes "
                      "its resources from the cluster, then the tenant.")  # fmt: skip


class MembershipForm(ServiceForm):
    class Meta:
        model = Membership
        fields = ("tenant", "user", "role")


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    form = MembershipForm
    list_display = ("user", "tenant", "role")
    search_fields = ("user__username", "tenant__slug")
    list_filter = ("role", "tenant")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("tenant", "user") if obj is not None else ()  # a role change only

    def apply(self, form: ServiceForm, data: dict[str, Any]) -> Model:
        if form.instance.pk is None:
            return services.membership_add(
                actor=form.actor, tenant_slug=data["tenant"].slug,
                username=data["user"].get_username(), role=data["role"],
            )  # fmt: skip
        return services.membership_update(
            actor=form.actor, tenant_slug=form.instance.tenant.slug,
            username=form.instance.user.get_username(), role=data["role"],
        )  # fmt: skip

    def delete_one(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(
            actor=request.user, tenant_slug=obj.tenant.slug, username=obj.user.get_username()
        )


class ServiceAccountForm(ServiceForm):
    mechanism = forms.ChoiceField(choices=[(m, m) for m in SCRAM_MECHANISMS])

    class Meta:
        model = ServiceAccount
        fields = ("tenant", "name", "description", "mechanism")


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ServiceAdmin):
    """Create (secret shown once), rotate and revoke; never deleted here (revoke)."""

    form = ServiceAccountForm
    list_display = ("username_shown", "tenant", "state", "ready_state", "mechanism",
                    "rotated_at")  # fmt: skip
    search_fields = ("name", "tenant__slug", "description")
    list_filter = ("state", "ready_state", "mechanism", "tenant")
    actions = ("rotate_secret", "revoke")
    readonly_fields = ("state", "ready_state", "ready_reason", "ready_message", "credential_set",
                       "rotated_at", "quota_overrides", "applied_quotas", "created_at")  # fmt: skip

    @admin.display(description="user", ordering="name")
    def username_shown(self, account: ServiceAccount) -> str:
        return account.username

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        base = ["tenant", "name", "description", "mechanism"]
        return base + list(self.readonly_fields) if obj else base

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("tenant", "name", "description", "mechanism", *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the reconciler removes the SCRAM user

    def apply(self, form: ServiceForm, data: dict[str, Any]) -> Model:
        if form.instance.pk is not None:
            return form.instance  # read-only once created: rotate or revoke
        credential = services.service_account_create(
            actor=form.actor, tenant_slug=data["tenant"].slug, name=data["name"],
            description=data.get("description") or "", mechanism=data["mechanism"],
        )  # fmt: skip
        form.result = credential
        return ServiceAccount.objects.get(pk=credential.account_id)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        _keep_credential(request, form)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        return secret_page(request, _credentials(request), f"{obj} created")

    @admin.action(description="Rotate secret (shown once)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[ServiceAccount]) -> Any:
        credentials = []
        for account in queryset.select_related("tenant"):
            try:
                credentials.append(
                    services.service_account_rotate(
                        actor=request.user, tenant_slug=account.tenant.slug, name=account.name
                    )
                )
            except ValidationError as exc:
                messages.error(request, f"{account}: {' '.join(exc.messages)}")
        if not credentials:
            return None
        return secret_page(request, credentials, "Secrets rotated")

    @admin.action(description="Revoke")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ServiceAccount]) -> None:
        done = 0
        for account in queryset.select_related("tenant"):
            if account.state == ServiceAccountState.REVOKED:
                continue
            services.service_account_revoke(
                actor=request.user, tenant_slug=account.tenant.slug, name=account.name
            )
            done += 1
        messages.success(request, f"Revoked {done} service account(s).")


class AccessRuleForm(ServiceForm):
    class Meta:
        model = AccessRule
        fields = ("service_account", "resource_type", "resource_name", "pattern_type",
                  "operation", "permission_type", "host")  # fmt: skip


@admin.register(AccessRule)
class AccessRuleAdmin(ServiceAdmin):
    """Create and delete through the services; a rule is never edited (delete, add)."""

    form = AccessRuleForm
    list_display = ("__str__", "service_account", "ready_state", "deleting")
    search_fields = ("resource_name", "service_account__name", "service_account__tenant__slug")
    list_filter = ("resource_type", "pattern_type", "permission_type", "ready_state", "deleting")

    status_fields = ("ready_state", "ready_reason", "ready_message", "deleting", "created_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        base = list(AccessRuleForm.Meta.fields)
        return base + list(self.status_fields) if obj else base

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def apply(self, form: ServiceForm, data: dict[str, Any]) -> Model:
        if form.instance.pk is not None:
            return form.instance  # never edited: delete and add
        account = data["service_account"]
        return services.access_rule_create(
            actor=form.actor, tenant_slug=account.tenant.slug, account_name=account.name,
            resource_type=data["resource_type"], resource_name=data["resource_name"],
            pattern_type=data["pattern_type"], operation=data["operation"],
            permission_type=data["permission_type"], host=data.get("host") or "*",
        )  # fmt: skip

    def delete_one(self, request: HttpRequest, obj: AccessRule) -> None:
        services.access_rule_delete(
            actor=request.user, tenant_slug=obj.service_account.tenant.slug, rule_id=obj.pk
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Immutable: viewable, never added, changed or deleted (superusers included)."""

    list_display = ("at", "actor_name", "tenant_slug", "action", "resource_type",
                    "resource_name", "result")  # fmt: skip
    search_fields = ("actor_name", "tenant_slug", "action", "resource_name")
    list_filter = ("action", "resource_type", "result", "tenant_slug")
    date_hierarchy = "at"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # not even "delete selected"


CREDENTIAL = "_console_credential"


def _keep_credential(request: HttpRequest, form: Any) -> None:
    """For this request's response only (never on the admin, which all requests share)."""
    setattr(request, CREDENTIAL, getattr(form, "result", None))


def _credentials(request: HttpRequest) -> list[Credential]:
    credential = getattr(request, CREDENTIAL, None)
    return [credential] if credential is not None else []


def secret_page(request: HttpRequest, credentials: list[Credential], title: str) -> HttpResponse:
    """The one response that shows new secrets: rendered now (not a stored message),
    never cached."""
    context = {
        **admin.site.each_context(request), "title": title, "credentials": credentials,
        "mechanisms": {c.mechanism for c in credentials},
    }  # fmt: skip
    response = TemplateResponse(request, "admin/console/secret_once.html", context)
    patch_cache_control(response, no_store=True, private=True)
    return response


# API tokens (console/services/tokens.py): made by each user on /account/tokens/, shown
# here read-only (never the secret: only its hash is kept); operators revoke any.
@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "user__username", "prefix")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    exclude = ("secret_sha256",)
    actions = ["revoke_tokens"]

    @admin.action(description="Revoke")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = [services_tokens.api_token_revoke(actor=request.user, token_id=t.pk)
                   for t in queryset if t.revoked_at is None]  # fmt: skip
        messages.success(request, f"Revoked {len(revoked)} API token(s).")
