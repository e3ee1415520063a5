"""Bulk import of members and orders from CSV and XLSX (docs/import.md): reading.py opens the file,
columns.py maps its header, rows.py checks each row, pipeline.py checks against the database and
writes, jobs.py keeps the job (upload, start, worker, report)."""
