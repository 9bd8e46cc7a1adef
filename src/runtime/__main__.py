"""The zipapp's entry point: `python3 reqset_runtime.pyz COMMAND ...`."""
import sys

from reqset_runtime.cli import main

sys.exit(main())
