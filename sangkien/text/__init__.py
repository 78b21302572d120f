"""Vietnamese text: display form and fold, person names, numbers, dates, markup, vocabularies.

Pure functions, no I/O; imports nothing of ours."""
