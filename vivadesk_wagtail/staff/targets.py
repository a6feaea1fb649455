"""(being written)"""


def screen_context(view) -> dict:
    """What the ticket screen shows of this part (its template include)."""
    return {}


def urlpatterns(viewset) -> list:
    """This part's URLs under the tickets viewset (agents only)."""
    return []
