"""Django admin for operators: users and groups (registered by django.contrib.auth)."""

from django.contrib import admin

admin.site.site_header = "Headwater administration"
admin.site.site_title = "Headwater"
admin.site.index_title = "Operators"
