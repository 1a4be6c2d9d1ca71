"""What crosses machines: export, import and its source reader, backup, consolidate."""
