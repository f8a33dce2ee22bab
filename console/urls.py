"""Console URLs: topics, login/logout (Django auth), the operators' admin and the favicon."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from console import views
from console.api.app import api
from console.views import accounts as account_views
from console.views import audit as audit_views
from console.views import brokers as broker_views
from console.views import groups as group_views
from console.views import messages as message_views
from console.views import plans as plan_views
from console.views import quotas as quota_views
from console.views import tenants as tenant_views
from console.views import tokens as token_views
from console.views import topics as topic_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="topic-list"), name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("topics/", views.topic_list, name="topic-list"),
    path("topics/<str:name>/", views.topic_detail, name="topic-detail"),
    path("topics/<str:name>/delete/", views.topic_delete, name="topic-delete"),
    # topics inside a tenant (issue 10): configure, add partitions
    path("topics/<str:name>/configs/", topic_views.topic_configs, name="topic-configs"),
    path("topics/<str:name>/partitions/", topic_views.topic_partitions, name="topic-partitions"),
    path("acls/", views.acl_list, name="acl-list"),
    path("users/", views.scram_user_list, name="scram-user-list"),
    # tenants
    path("tenants/", tenant_views.tenant_list, name="tenant-list"),
    path("tenants/<str:slug>/", tenant_views.tenant_detail, name="tenant-detail"),
    path("tenants/<str:slug>/delete/", tenant_views.tenant_delete, name="tenant-delete"),
    path(
        "tenants/<str:slug>/drift/<str:how>/",
        tenant_views.drift_resolve,
        name="drift-resolve",
    ),
    path(
        "tenants/<str:slug>/service-accounts/",
        account_views.service_account_list,
        name="service-account-list",
    ),
    path(
        "tenants/<str:slug>/service-accounts/<str:name>/",
        account_views.service_account_detail,
        name="service-account-detail",
    ),
    path(
        "tenants/<str:slug>/service-accounts/<str:name>/rotate/",
        account_views.service_account_rotate,
        name="service-account-rotate",
    ),
    path(
        "tenants/<str:slug>/service-accounts/<str:name>/revoke/",
        account_views.service_account_revoke,
        name="service-account-revoke",
    ),
    path("tenants/<str:slug>/acls/", account_views.access_rule_list, name="access-rule-list"),
    path(
        "tenants/<str:slug>/acls/<int:rule_id>/delete/",
        account_views.access_rule_delete,
        name="access-rule-delete",
    ),
    path("tenants/<str:slug>/members/", account_views.member_list, name="member-list"),
    path(
        "tenants/<str:slug>/members/<str:username>/",
        account_views.member_update,
        name="member-update",
    ),
    # audit log, plans and quotas (issue 10)
    path("audit/", audit_views.audit_list, name="audit-list"),
    path("audit/<int:event_id>/", audit_views.audit_detail, name="audit-detail"),
    path("plans/", plan_views.plan_list, name="plan-list"),
    path("plans/new/", plan_views.plan_create, name="plan-create"),
    path("plans/<str:name>/", plan_views.plan_edit, name="plan-edit"),
    path("quotas/", quota_views.quota_list, name="quota-list"),
    # consumer groups (issue 11)
    path("groups/", group_views.group_list, name="group-list"),
    path("groups/<str:group_id>/", group_views.group_detail, name="group-detail"),
    path("groups/<str:group_id>/reset/", group_views.group_reset, name="group-reset"),
    path("groups/<str:group_id>/delete/", group_views.group_delete, name="group-delete"),
    path(
        "groups/<str:group_id>/offsets/delete/",
        group_views.group_offsets_delete,
        name="group-offsets-delete",
    ),
    path("topics/<str:name>/groups/", group_views.topic_groups, name="topic-groups"),
    # the REST API (console/api/) and the user's API tokens
    path("api/v1/", api.urls),
    path("account/tokens/", token_views.token_list, name="token-list"),
    path("account/tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token-revoke"),
    # messages: browse, filter, produce, download (issue 11)
    path("topics/<str:name>/messages/", message_views.message_list, name="message-list"),
    path(
        "topics/<str:name>/messages/produce/",
        message_views.message_produce,
        name="message-produce",
    ),
    # brokers and cluster (issue 11)
    path("brokers/", broker_views.broker_list, name="broker-list"),
    path("brokers/<int:broker_id>/", broker_views.broker_detail, name="broker-detail"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
