"""Reports: the JSON report (DESIGN §4), terminal and Markdown renderings."""

from repairbot.report.render import markdown_summary, terminal_summary, write_json

__all__ = ["markdown_summary", "terminal_summary", "write_json"]
