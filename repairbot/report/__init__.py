"""Report: validated candidates ranked into patches, the JSON report (DESIGN §4), terminal and Markdown
renderings. Entry points: `rank` (patches); `write_json`, `terminal_summary`, `markdown_summary`."""

from repairbot.report.patches import patch_of, rank, rank_assessed, with_files
from repairbot.report.render import assessment_markdown, markdown_summary, terminal_summary, write_json

__all__ = [
    "assessment_markdown",
    "markdown_summary",
    "patch_of",
    "rank",
    "rank_assessed",
    "terminal_summary",
    "with_files",
    "write_json",
]
