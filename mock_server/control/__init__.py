"""`sohar-mock` commands that drive a running mock over its admin API, as a QA script would.

`client` speaks the admin API (and Sohar's, for `trigger`), `triggers` knows the documented
trigger inputs, `formatting` prints tables or JSON, `listen` follows webhook deliveries, and
`commands` builds the subcommands that `cli.py` adds to its parser.
"""

from __future__ import annotations

from .commands import add_commands

__all__ = ["add_commands"]
