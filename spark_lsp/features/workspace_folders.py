"""workspace/didChangeWorkspaceFolders: a folder added later is a root with its own ignore files.

pygls keeps ``server.workspace.folders`` up to date (and announces the capability
``workspace.workspaceFolders.supported/changeNotifications``); this handler runs after it and
hands the new set to the server, which rebuilds the privacy policy and the project index.
"""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.lsp.server import Method, Row, SparkServer, workspace_roots


def did_change_workspace_folders(
    ls: SparkServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    """``workspace/didChangeWorkspaceFolders``: adopt the new set of roots."""
    ls.set_roots(workspace_roots(ls))


HANDLERS: tuple[Row, ...] = (
    Method(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, did_change_workspace_folders),
)
