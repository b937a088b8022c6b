"""The review domain: everything after recognition (cases, their lifecycle, claims, duplicates
and incidents, clone flags, rewards and the ledger, custody, staff)."""
