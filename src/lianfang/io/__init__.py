"""Sheets: one specification per kind of row, read from and written to .xlsx and .csv."""
