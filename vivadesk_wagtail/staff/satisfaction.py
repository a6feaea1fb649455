"""The customer's rating on the ticket screen (``_rating.html``): good or
bad, when it was given and changed, and the comment (customer text,
autoescaped)."""

from __future__ import annotations

from ..models import Rating, SatisfactionRating


def screen_context(view) -> dict:
    """``rating`` (or ``None``) and its ``rating_label``."""
    rating = SatisfactionRating.objects.filter(ticket_id=view.object.pk).first()
    return {
        "rating": rating,
        "rating_label": str(Rating(rating.rating).label) if rating else "",
    }


def urlpatterns(viewset) -> list:
    """This part has no URLs of its own."""
    return []
