"""The privacy app's tables: data-subject requests, export approvals, breach incidents."""
