"""`python -m mock_server` is `pruefstand`."""

from mock_server.cli import main

main()
