"""Allow ``python -m spark_lsp`` so editors and tests can start the server with any interpreter."""

from spark_lsp.commands.cli import main

raise SystemExit(main())
