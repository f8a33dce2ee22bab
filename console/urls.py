"""Console URLs: topics, login/logout (Django auth), the operators' admin and the favicon."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from console import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="topic-list"), name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("topics/", views.topic_list, name="topic-list"),
    path("topics/<str:name>/", views.topic_detail, name="topic-detail"),
    path("topics/<str:name>/delete/", views.topic_delete, name="topic-delete"),
    path("acls/", views.acl_list, name="acl-list"),
    path("users/", views.scram_user_list, name="scram-user-list"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
