"""WireMock-compatible stubs and verification: mappings, request patterns, templated answers, scenarios."""
