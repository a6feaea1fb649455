"""Included under ``demo-mail/`` inside ``i18n_patterns`` by the dev site."""

from django.urls import path

from . import views

app_name = "demo_mail"

urlpatterns = [
    path("", views.index, name="index"),
    path("reply/<str:file>/<int:index>/", views.reply, name="reply"),
    path("new/", views.new, name="new"),
    path("placed/", views.done, name="done"),
]
