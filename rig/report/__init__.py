"""Run reports: report.json (machine), junit.xml (CI), report.html (people)."""
