"""Customer portal URLs (login required; every lookup scoped to the customer)."""

urlpatterns = []
