"""`python -m contract_tests` is `sohar-contract`."""

import sys

from .cli import main

sys.exit(main())
