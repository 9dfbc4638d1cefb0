"""The two first-stage retrievers; each returns ``(slot, score)`` pairs, best first."""
