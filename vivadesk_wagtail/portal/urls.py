"""Customer portal URLs (login required; every lookup scoped to the customer)."""

from django.urls import path

from . import account, downloads, views

urlpatterns = [
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/new/", views.new_request, name="new_request"),
    path("requests/<str:reference>/", views.ticket_detail, name="ticket"),
    path("requests/<str:reference>/comment/", views.comment, name="comment"),
    path("requests/<str:reference>/done/", views.mark_done, name="mark_done"),
    path(
        "requests/<str:reference>/attachments/<int:pk>/",
        downloads.download,
        name="attachment",
    ),
    path("account/", account.account, name="account"),
    path("account/password/", account.change_password, name="change_password"),
]
