"""The derived SQLite index: schema, the applier, rebuild, queries and access stats."""
