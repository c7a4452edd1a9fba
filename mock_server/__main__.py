"""`python -m pruefstand.mock_server` is `pruefstand`."""

from pruefstand.mock_server.cli import main

main()
