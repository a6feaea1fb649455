"""vivadesk_wagtail: a customer help desk inside a Wagtail website.

Imports go down the layers, never up; changes reach the layers above through
signals (docs/architecture.md, ``[tool.importlinter]`` in ``pyproject.toml``).
"""

__version__ = "0.1.0"
