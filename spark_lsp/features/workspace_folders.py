"""workspace/didChangeWorkspaceFolders: a folder added later is a root with its own ignore files.

pygls keeps ``server.workspace.folders`` up to date (and announces the capability
``workspace.workspaceFolders.supported/changeNotifications``); this handler runs after it and
hands the new set to the server, which rebuilds the privacy policy and the project index.
"""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.lsp.server import SparkServer, workspace_roots


def register(server: SparkServer) -> None:
    """Attach the folder-change handler."""

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(
        ls: SparkServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        ls.set_roots(workspace_roots(ls))
