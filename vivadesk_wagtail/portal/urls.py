"""Customer portal URLs (login required but for the erasure and rating links
of the mails; every lookup scoped to the customer)."""

from django.urls import path

from . import account, downloads, previews, privacy, satisfaction, views

urlpatterns = [
    path("requests/", views.MyRequestsView.as_view(), name="my_requests"),
    path("requests/new/", views.NewRequestView.as_view(), name="new_request"),
    path("requests/<str:reference>/", views.TicketView.as_view(), name="ticket"),
    path(
        "requests/<str:reference>/comment/", views.CommentView.as_view(), name="comment"
    ),
    path("requests/<str:reference>/done/", views.mark_done, name="mark_done"),
    path(
        "requests/<str:reference>/attachments/<int:pk>/",
        downloads.download,
        name="attachment",
    ),
    path(
        "requests/<str:reference>/attachments/<int:pk>/thumbnail/",
        previews.thumbnail,
        name="attachment_thumbnail",
    ),
    path(
        "requests/<str:reference>/attachments/<int:pk>/preview/",
        previews.preview,
        name="attachment_preview",
    ),
    path("account/", account.AccountView.as_view(), name="account"),
    path(
        "account/password/",
        account.ChangePasswordView.as_view(),
        name="change_password",
    ),
    path("account/data/export/", privacy.request_export, name="data_export"),
    path(
        "account/data/export/<int:pk>/",
        privacy.download_export,
        name="data_export_download",
    ),
    path("account/data/delete/", privacy.request_erasure, name="erasure_request"),
    # The links of the erasure mails: no login (the account is deactivated).
    path(
        "account/delete/confirm/<str:token>/",
        privacy.ConfirmErasureView.as_view(),
        name="erasure_confirm",
    ),
    path(
        "account/delete/cancel/<str:token>/",
        privacy.CancelErasureView.as_view(),
        name="erasure_cancel",
    ),
    # The rating links of the "Done" mail: no login (the link decides).
    path("rating/<str:token>/", satisfaction.RateView.as_view(), name="rate"),
]
