"""Letters and minutes: HTML+CSS to PDF/A (WeasyPrint); DOCX from the same data (python-docx)."""
