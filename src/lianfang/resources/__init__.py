"""Medical resources: facilities, capacity, stock ledger, reserves, staff strength."""
