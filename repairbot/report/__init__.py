"""Report: validated candidates ranked into patches, the JSON report (DESIGN §4), terminal and Markdown
renderings. Entry points: `rank` (patches); `write_json`, `terminal_summary`, `markdown_summary`."""

from repairbot.report.patches import patch_of, rank, with_files
from repairbot.report.render import markdown_summary, terminal_summary, write_json

__all__ = ["markdown_summary", "patch_of", "rank", "terminal_summary", "with_files", "write_json"]
