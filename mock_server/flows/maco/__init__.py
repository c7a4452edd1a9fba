"""MaCo App trigger flow: rules (identifiers, events, trigger_rules, pi25001), services (auth, service), handlers."""
