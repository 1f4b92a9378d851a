"""The model client: a persistent session to a Responses-style endpoint, and its wire format.

``__all__`` is what the engine may use (``tests/unit/test_layers.py`` holds it to that): the
request it builds, the session it calls and what the session hands back. The rest of the
package (links, pool, transports, framing) is the session's business.

The names load on first use (PEP 562 ``__getattr__``), not with the package: every import of
a module in here (``spark_lsp.model.protocol`` by the bundled model server, for one) runs this
file first, and an eager ``session`` import would add the session and its transports (about
60-100 ms) to processes and start-up paths that never open a session.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time ``__getattr__`` finds the same names
    from spark_lsp.model.anchor_book import AnchorState
    from spark_lsp.model.protocol import CreateRequest, cut_by_budget
    from spark_lsp.model.session import ModelSession
    from spark_lsp.model.stream import ResponseStream

__all__ = ["AnchorState", "CreateRequest", "ModelSession", "ResponseStream", "cut_by_budget"]

#: The module that defines each public name.
_HOMES = {
    "AnchorState": "spark_lsp.model.anchor_book",
    "CreateRequest": "spark_lsp.model.protocol",
    "ModelSession": "spark_lsp.model.session",
    "ResponseStream": "spark_lsp.model.stream",
    "cut_by_budget": "spark_lsp.model.protocol",
}

if not TYPE_CHECKING:  # hidden from type checkers, so that a name missing above is an error

    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # found once; later reads skip this function
        return value
