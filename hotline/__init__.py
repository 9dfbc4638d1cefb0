"""The 12345 hotline: tickets, queue, SLA, categories, claims and handoff. Filled in by the hotline issue."""
