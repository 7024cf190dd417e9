"""Who may act for an agency: API tokens (salted hashes, one role each) and the hash-chained audit log
of every write. Plain library code over the store, used by the HTTP API and by ``vdto tokens``."""
