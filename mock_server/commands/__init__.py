"""The subcommands of `pruefstand`, one module each."""
