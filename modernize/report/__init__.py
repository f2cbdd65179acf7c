"""The readiness report: one data structure (report.json), and the HTML, Markdown
and CSV views of it."""
