"""pruefstand.mock_server: the stateful implementation of the contracts, the CLI, the admin API."""

import warnings

# Starlette warns on import of its test client, which connexion imports for its own test helper; users of the CLI and
# the server cannot act on it.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
