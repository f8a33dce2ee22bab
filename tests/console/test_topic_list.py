"""The topic list searches, filters and pages on the server (issue 10): ``?q=`` by
name, ``?tenant=`` among the actor's tenants, Kafka's internal topics hidden unless
``?internal=1``, 50 a page; nothing sends every topic to the browser.

Topics live on the session's shared broker, so each test names its tenants (and so its
topics) uniquely and searches or filters by that name.
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.models import Membership, Plan, Tenant
from console.selectors.topics import PAGE_SIZE
from tests.support.broker import BrokerProcess


def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, 1, 1) for n in names], operation_timeout=30)
    for future in futures.values():
        future.result(60)


@pytest.fixture
def tenants(cluster: BrokerProcess, db: None) -> dict[str, Tenant]:
    plan = Plan.objects.create(name=f"free-{uuid.uuid4().hex[:6]}")
    hex_ = uuid.uuid4().hex[:8]
    return {
        key: Tenant.objects.create(name=key, slug=f"{key}{hex_}", plan=plan)
        for key in ("big", "small", "foreign")
    }


@pytest.fixture
def member(tenants: dict[str, Tenant], client: Client) -> Client:
    """A developer of "big", a viewer of "small", nothing of "foreign"."""
    user = User.objects.create_user(f"member-{uuid.uuid4().hex[:8]}")
    Membership.objects.create(user=user, tenant=tenants["big"], role="developer")
    Membership.objects.create(user=user, tenant=tenants["small"], role="viewer")
    client.force_login(user)
    return client


@pytest.fixture
def topics(cluster: BrokerProcess, tenants: dict[str, Tenant]) -> dict[str, list[str]]:
    names = {
        "big": [f"{tenants['big'].prefix}t{i:02}" for i in range(PAGE_SIZE + 3)],
        "small": [f"{tenants['small'].prefix}only"],
        "foreign": [f"{tenants['foreign'].prefix}t01"],
    }
    create_topics(cluster.bootstrap, [n for group in names.values() for n in group])
    return names


def listed(client: Client, **params: str) -> tuple[list[str], object]:
    response = client.get(reverse("topic-list"), params)
    assert response.status_code == 200
    return [t.name for t in response.context["topics"]], response


def test_the_list_pages_by_50_with_offsets_for_that_page_only(
    member: Client, topics: dict[str, list[str]], tenants: dict[str, Tenant]
) -> None:
    big = tenants["big"].slug
    first, response = listed(member, tenant=big)
    assert first == topics["big"][:PAGE_SIZE]
    assert all(t.high_watermark_total == 0 for t in response.context["topics"])
    page = response.content.decode()
    assert f"{PAGE_SIZE + 3} topics" in page
    assert f'href="?tenant={big}&amp;page=2">Next</a>' in page
    second, response = listed(member, tenant=big, page="2")
    assert second == topics["big"][PAGE_SIZE:]
    assert 'href="?tenant=' in response.content.decode()  # Previous keeps the filter
    beyond, _ = listed(member, tenant=big, page="99")  # past the end: the last page
    assert beyond == second


def test_search_by_name_keeps_to_the_members_tenants(
    member: Client, topics: dict[str, list[str]], tenants: dict[str, Tenant]
) -> None:
    found, response = listed(member, q="T0")  # any case
    assert found == [n for n in topics["big"] if ".t0" in n]
    assert topics["foreign"][0] not in found  # another tenant's t01 is not there
    assert tenants["foreign"].slug not in response.content.decode()
    found, _ = listed(member, q=tenants["small"].prefix + "ONLY")
    assert found == topics["small"]
    nothing, response = listed(member, q="no-such-topic-anywhere")
    assert nothing == [] and "No topic matches." in response.content.decode()


def test_pager_links_keep_the_search(
    member: Client, topics: dict[str, list[str]], tenants: dict[str, Tenant]
) -> None:
    _, response = listed(member, q=tenants["big"].prefix)
    page = response.content.decode()
    assert f"q={tenants['big'].slug}.&amp;page=2" in page


def test_the_tenant_filter_narrows_to_one_of_the_members_tenants(
    member: Client, topics: dict[str, list[str]], tenants: dict[str, Tenant]
) -> None:
    found, response = listed(member, tenant=tenants["small"].slug)
    assert found == topics["small"]
    select = response.content.decode()
    assert f'<option value="{tenants["small"].slug}" selected>' in select
    assert tenants["foreign"].slug not in select
    found, response = listed(member, tenant=tenants["foreign"].slug)  # not its tenant
    assert found == [] and topics["foreign"][0] not in response.content.decode()


def test_the_create_form_offers_only_tenants_whose_role_manages_topics(
    member: Client, topics: dict[str, list[str]], tenants: dict[str, Tenant]
) -> None:
    _, response = listed(member)
    form = response.context["form"]
    assert [t.slug for t in form.tenants] == [tenants["big"].slug]  # a viewer of "small"
    assert not form.cluster_topics
    assert [c.tenant.slug for c in response.context["list"].usage] == [tenants["big"].slug]
    manageable = response.context["list"].manageable
    assert topics["big"][0] in manageable
    _, small = listed(member, tenant=tenants["small"].slug)
    assert f'href="/topics/{topics["small"][0]}/delete/"' not in small.content.decode()


def test_an_operator_filters_by_any_tenant_and_sees_internal_topics_on_request(
    operator_client: Client, topics: dict[str, list[str]], tenants: dict[str, Tenant],
    cluster: BrokerProcess,
) -> None:  # fmt: skip
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": uuid.uuid4().hex})
    consumer.commit(offsets=[TopicPartition(topics["small"][0], 0, 0)], asynchronous=False)
    consumer.close()  # __consumer_offsets exists now
    found, _ = listed(operator_client, tenant=tenants["foreign"].slug)
    assert found == topics["foreign"]
    hidden, _ = listed(operator_client, q="__consumer_offsets")
    assert hidden == []
    shown, response = listed(operator_client, q="__consumer_offsets", internal="1")
    assert shown == ["__consumer_offsets"]
    assert 'name="internal" value="1" checked' in response.content.decode()
    form = response.context["form"]
    assert form.cluster_topics and {"", tenants["foreign"].slug} <= {s for s, _ in form.prefixes}
    # an operator's create form: the tenant as a select of prefixes, "no tenant" first
    assert '<option value="" selected>(no tenant)</option>' in response.content.decode()
