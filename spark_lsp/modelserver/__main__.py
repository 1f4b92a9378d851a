"""``python -m spark_lsp.modelserver``: see ``main.py``."""

import sys

from spark_lsp.modelserver.main import main

if __name__ == "__main__":
    sys.exit(main())
