"""The projects kept apart for independent measurement (HELPERS.md: the held-out list and every project of
BugsInPy): no dev set may hold a case of theirs."""

HELD_OUT = frozenset(
    [
        "youtube-dl",
        "thefuck",
        "tqdm",
        "cookiecutter",
        "httpie",
        "pysnooper",
        "humanize",
        "cachetools",
        "toolz",
        "boltons",
        "tenacity",
        "itsdangerous",
        "click",
        "prettytable",
        "marshmallow",
        "attrs",
        "pyparsing",
        "loguru",
        "structlog",
        "more-itertools",
        "ansible",
        "black",
        "fastapi",
        "keras",
        "luigi",
        "matplotlib",
        "pandas",
        "sanic",
        "scrapy",
        "spacy",
        "tornado",
    ]
)
