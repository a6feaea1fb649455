"""vivadesk_wagtail: a customer help desk inside a Wagtail website."""

__version__ = "0.1.0"
