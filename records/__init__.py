"""The records store: database engine, tables, the record path's statements, the hash chain and the registry."""
