"""What people read: the report table and CSV, the run report, reconciliation tables, the workbook."""
