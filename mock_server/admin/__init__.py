"""The admin API: sandboxes, clock, and read access to each flow's state."""
