"""Reports: the JSON report (DESIGN §4), terminal and Markdown renderings, diff parsing."""

from repairbot.report.render import diff_stats, markdown_summary, terminal_summary, write_json

__all__ = ["diff_stats", "markdown_summary", "terminal_summary", "write_json"]
