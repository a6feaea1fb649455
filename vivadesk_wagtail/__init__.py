"""vivadesk_wagtail: a customer help desk inside a Wagtail website.

Imports go down the layers, never up: edges (views, admin, tasks, commands,
hooks) > ``mail.inbound`` > ``services`` > ``mail`` > ``models`` > base
modules. Changes reach the layers above through signals, whose receivers are
wired in ``signal_handlers`` (the contracts: ``[tool.importlinter]`` in
``pyproject.toml``).
"""

__version__ = "0.1.0"
