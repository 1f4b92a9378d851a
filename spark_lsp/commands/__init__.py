"""What the ``spark-lsp`` command runs: the command line itself, ``doctor`` and ``complete``."""
