"""The national office's workbook (XLSX): sheets, Vietnamese labels, and a small streaming writer."""
