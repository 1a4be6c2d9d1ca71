"""The single writer: intents, planning, the journal's commit point, applying, the lock."""
