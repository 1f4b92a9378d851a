"""The launch contract between the bundled model server and whoever starts it.

Kept apart from the server's command line so that the language server's launcher
(``embedded.py``) can honour it without importing the engines and the WebSocket server into the
language server's process.
"""

#: The environment variable that carries the per-launch bearer token (argv is world-readable).
TOKEN_ENV = "SPARK_MODEL_SERVER_TOKEN"
#: The first stdout line of a started server is this prefix and its ``ws://`` URL.
LISTENING_PREFIX = "LISTENING "
#: Repeated once per ``spark.context.exclude`` pattern: files the workspace index must skip.
EXCLUDE_OPTION = "--exclude"
