"""pruefstand's one top-level name: the distribution installs nothing else (no generic `contracts` or `mock_server`
beside a partner's own packages). `pruefstand.contracts` (contract loading, validation, fuzzing, scenarios) and
`pruefstand.mock_server` (the stateful mock) are the repository's top-level folders, linked here in a clone and
installed here by the wheel."""
