"""The append-only, hash-chained record of every public change (``docs/LEDGER.md``).

Every service that changes what the public sees (publication, estimate, resolution,
correction, annulment, extension, amendment) appends an entry in its own
transaction (:func:`forecasts.core.ledger.append.ledger_append`). Each entry holds the
canonical JSON of its event and ``sha256(previous hash + canonical JSON)``, so whoever
keeps a head hash can later prove the entries before it were not rewritten.
"""
