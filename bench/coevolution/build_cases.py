"""Builds bench/coevolution/cases.jsonl: small libraries with one commit each.

expect "test": the change is intended and some tests are obsolete (`fixed` holds the updated test files).
expect "code": the change introduced a bug and the tests are right (`fixed` holds the corrected sources).
Run: python bench/coevolution/build_cases.py
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

CASES: list[dict[str, object]] = []


def d(s: str) -> str:
    return dedent(s).lstrip("\n")


def case(
    cid: str,
    kind: str,
    style: str,
    expect: str,
    base_files: dict[str, str],
    base_tests: dict[str, str],
    new_files: dict[str, str],
    fixed: dict[str, str],
    new_tests: dict[str, str] | None = None,
    notes: str = "",
) -> None:
    merged = {**base_files, **new_files}
    files = {k: d(v) for k, v in merged.items() if v is not None}
    tests = {k: d(v) for k, v in {**base_tests, **(new_tests or {})}.items()}
    CASES.append(
        {
            "id": cid,
            "kind": kind,
            "style": style,
            "expect": expect,
            "base": {k: d(v) for k, v in {**base_files, **base_tests}.items()},
            "files": files,
            "tests": tests,
            "fixed": {k: d(v) for k, v in fixed.items()},
            "timeout_s": 60,
            "notes": notes,
        }
    )


INIT = {"__init__.py": ""}


def pkg(name: str, files: dict[str, str]) -> dict[str, str]:
    out = {f"{name}/__init__.py": ""}
    out.update({f"{name}/{k}": v for k, v in files.items()})
    return out


# ------------------------------------------------------------------ renames

case(
    "rename-function-pytest",
    "rename_function",
    "pytest",
    "test",
    pkg(
        "textkit",
        {
            "slug.py": """
        import re


        def slugify(title, sep="-"):
            words = re.findall(r"[a-z0-9]+", title.lower())
            return sep.join(words)
        """
        },
    ),
    {
        "tests/test_slug.py": """
        from textkit.slug import slugify


        def test_basic():
            assert slugify("Hello World") == "hello-world"


        def test_separator():
            assert slugify("A b", sep="_") == "a_b"
        """
    },
    pkg(
        "textkit",
        {
            "slug.py": """
        import re


        def make_slug(title, sep="-"):
            words = re.findall(r"[a-z0-9]+", title.lower())
            return sep.join(words)
        """
        },
    ),
    {
        "tests/test_slug.py": """
        from textkit.slug import make_slug


        def test_basic():
            assert make_slug("Hello World") == "hello-world"


        def test_separator():
            assert make_slug("A b", sep="_") == "a_b"
        """
    },
)

case(
    "rename-function-unittest",
    "rename_function",
    "unittest",
    "test",
    pkg(
        "inventory",
        {
            "stock.py": """
        def total_value(items):
            return sum(qty * price for qty, price in items)
        """
        },
    ),
    {
        "tests/test_stock.py": """
        import unittest

        from inventory import stock


        class StockTest(unittest.TestCase):
            def test_total(self):
                self.assertEqual(stock.total_value([(2, 3), (1, 4)]), 10)

            def test_empty(self):
                self.assertEqual(stock.total_value([]), 0)
        """
    },
    pkg(
        "inventory",
        {
            "stock.py": """
        def stock_value(items):
            return sum(qty * price for qty, price in items)
        """
        },
    ),
    {
        "tests/test_stock.py": """
        import unittest

        from inventory import stock


        class StockTest(unittest.TestCase):
            def test_total(self):
                self.assertEqual(stock.stock_value([(2, 3), (1, 4)]), 10)

            def test_empty(self):
                self.assertEqual(stock.stock_value([]), 0)
        """
    },
)

case(
    "rename-method-pytest",
    "rename_method",
    "pytest",
    "test",
    pkg(
        "shop",
        {
            "cart.py": """
        class Cart:
            def __init__(self):
                self.lines = []

            def add_item(self, sku, qty=1):
                self.lines.append((sku, qty))
                return self

            def count(self):
                return sum(q for _, q in self.lines)
        """
        },
    ),
    {
        "tests/test_cart.py": """
        from shop.cart import Cart


        def test_count():
            cart = Cart()
            cart.add_item("apple", 2).add_item("pear")
            assert cart.count() == 3
        """
    },
    pkg(
        "shop",
        {
            "cart.py": """
        class Cart:
            def __init__(self):
                self.lines = []

            def add(self, sku, qty=1):
                self.lines.append((sku, qty))
                return self

            def count(self):
                return sum(q for _, q in self.lines)
        """
        },
    ),
    {
        "tests/test_cart.py": """
        from shop.cart import Cart


        def test_count():
            cart = Cart()
            cart.add("apple", 2).add("pear")
            assert cart.count() == 3
        """
    },
)

case(
    "rename-method-unittest",
    "rename_method",
    "unittest",
    "test",
    pkg(
        "bank",
        {
            "account.py": """
        class Account:
            def __init__(self, balance=0):
                self.balance = balance

            def withdraw_funds(self, amount):
                if amount > self.balance:
                    raise ValueError("insufficient funds")
                self.balance -= amount
                return self.balance
        """
        },
    ),
    {
        "tests/test_account.py": """
        import unittest

        from bank.account import Account


        class AccountTest(unittest.TestCase):
            def test_withdraw(self):
                acct = Account(10)
                self.assertEqual(acct.withdraw_funds(4), 6)

            def test_overdraw(self):
                with self.assertRaises(ValueError):
                    Account(1).withdraw_funds(5)
        """
    },
    pkg(
        "bank",
        {
            "account.py": """
        class Account:
            def __init__(self, balance=0):
                self.balance = balance

            def withdraw(self, amount):
                if amount > self.balance:
                    raise ValueError("insufficient funds")
                self.balance -= amount
                return self.balance
        """
        },
    ),
    {
        "tests/test_account.py": """
        import unittest

        from bank.account import Account


        class AccountTest(unittest.TestCase):
            def test_withdraw(self):
                acct = Account(10)
                self.assertEqual(acct.withdraw(4), 6)

            def test_overdraw(self):
                with self.assertRaises(ValueError):
                    Account(1).withdraw(5)
        """
    },
)

case(
    "rename-class-pytest",
    "rename_class",
    "pytest",
    "test",
    pkg(
        "units",
        {
            "temp.py": """
        class Temp:
            def __init__(self, celsius):
                self.celsius = celsius

            def fahrenheit(self):
                return self.celsius * 9 / 5 + 32
        """
        },
    ),
    {
        "tests/test_temp.py": """
        import pytest

        from units.temp import Temp


        @pytest.mark.parametrize("c, f", [(0, 32), (100, 212)])
        def test_fahrenheit(c, f):
            assert Temp(c).fahrenheit() == f
        """
    },
    pkg(
        "units",
        {
            "temp.py": """
        class Temperature:
            def __init__(self, celsius):
                self.celsius = celsius

            def fahrenheit(self):
                return self.celsius * 9 / 5 + 32
        """
        },
    ),
    {
        "tests/test_temp.py": """
        import pytest

        from units.temp import Temperature


        @pytest.mark.parametrize("c, f", [(0, 32), (100, 212)])
        def test_fahrenheit(c, f):
            assert Temperature(c).fahrenheit() == f
        """
    },
)

case(
    "rename-class-unittest",
    "rename_class",
    "unittest",
    "test",
    pkg(
        "cachelib",
        {
            "lru.py": """
        from collections import OrderedDict


        class LRU:
            def __init__(self, size):
                self.size = size
                self.data = OrderedDict()

            def put(self, key, value):
                self.data[key] = value
                self.data.move_to_end(key)
                if len(self.data) > self.size:
                    self.data.popitem(last=False)

            def get(self, key, default=None):
                if key in self.data:
                    self.data.move_to_end(key)
                    return self.data[key]
                return default
        """
        },
    ),
    {
        "tests/test_lru.py": """
        import unittest

        import cachelib.lru as lru


        class LRUTest(unittest.TestCase):
            def test_evicts_oldest(self):
                cache = lru.LRU(2)
                cache.put("a", 1)
                cache.put("b", 2)
                cache.put("c", 3)
                self.assertIsNone(cache.get("a"))
                self.assertEqual(cache.get("c"), 3)
        """
    },
    pkg(
        "cachelib",
        {
            "lru.py": """
        from collections import OrderedDict


        class LRUCache:
            def __init__(self, size):
                self.size = size
                self.data = OrderedDict()

            def put(self, key, value):
                self.data[key] = value
                self.data.move_to_end(key)
                if len(self.data) > self.size:
                    self.data.popitem(last=False)

            def get(self, key, default=None):
                if key in self.data:
                    self.data.move_to_end(key)
                    return self.data[key]
                return default
        """
        },
    ),
    {
        "tests/test_lru.py": """
        import unittest

        import cachelib.lru as lru


        class LRUTest(unittest.TestCase):
            def test_evicts_oldest(self):
                cache = lru.LRUCache(2)
                cache.put("a", 1)
                cache.put("b", 2)
                cache.put("c", 3)
                self.assertIsNone(cache.get("a"))
                self.assertEqual(cache.get("c"), 3)
        """
    },
)

case(
    "move-module-pytest",
    "move_module",
    "pytest",
    "test",
    pkg(
        "geom",
        {
            "shapes.py": """
        import math


        def circle_area(r):
            return math.pi * r * r


        def square_area(side):
            return side * side
        """
        },
    ),
    {
        "tests/test_shapes.py": """
        import pytest

        from geom.shapes import circle_area, square_area


        def test_square():
            assert square_area(3) == 9


        def test_circle():
            assert circle_area(1) == pytest.approx(3.14159, rel=1e-4)
        """
    },
    {
        "geom/shapes.py": None,
        "geom/areas.py": d("""
        import math


        def circle_area(r):
            return math.pi * r * r


        def square_area(side):
            return side * side
        """),
    },  # type: ignore[dict-item]
    {
        "tests/test_shapes.py": """
        import pytest

        from geom.areas import circle_area, square_area


        def test_square():
            assert square_area(3) == 9


        def test_circle():
            assert circle_area(1) == pytest.approx(3.14159, rel=1e-4)
        """
    },
)

case(
    "move-function-unittest",
    "move_function",
    "unittest",
    "test",
    pkg(
        "timeutil",
        {
            "helpers.py": """
        def parse_duration(text):
            units = {"s": 1, "m": 60, "h": 3600}
            return int(text[:-1]) * units[text[-1]]


        def plural(n, word):
            return word if n == 1 else word + "s"
        """
        },
    ),
    {
        "tests/test_helpers.py": """
        import unittest

        from timeutil.helpers import parse_duration, plural


        class HelpersTest(unittest.TestCase):
            def test_duration(self):
                self.assertEqual(parse_duration("2m"), 120)

            def test_plural(self):
                self.assertEqual(plural(2, "day"), "days")
        """
    },
    {
        "timeutil/helpers.py": d("""
        def plural(n, word):
            return word if n == 1 else word + "s"
        """),
        "timeutil/durations.py": d("""
        def parse_duration(text):
            units = {"s": 1, "m": 60, "h": 3600}
            return int(text[:-1]) * units[text[-1]]
        """),
    },
    {
        "tests/test_helpers.py": """
        import unittest

        from timeutil.helpers import plural
        from timeutil.durations import parse_duration


        class HelpersTest(unittest.TestCase):
            def test_duration(self):
                self.assertEqual(parse_duration("2m"), 120)

            def test_plural(self):
                self.assertEqual(plural(2, "day"), "days")
        """
    },
)

# ------------------------------------------------------------------ signatures

case(
    "sig-add-required-pytest",
    "signature_add",
    "pytest",
    "test",
    pkg(
        "tmpl",
        {
            "render.py": """
        def render(template, context):
            out = template
            for key, value in context.items():
                out = out.replace("{" + key + "}", str(value))
            return out
        """,
            "mail.py": """
        from tmpl.render import render


        def welcome(name):
            return render("Hi {name}", {"name": name})
        """,
        },
    ),
    {
        "tests/test_render.py": """
        from tmpl.render import render


        def test_render():
            assert render("{a}+{b}", {"a": 1, "b": 2}) == "1+2"
        """
    },
    pkg(
        "tmpl",
        {
            "render.py": """
        def render(template, context, strict):
            out = template
            for key, value in context.items():
                out = out.replace("{" + key + "}", str(value))
            if strict and "{" in out:
                raise KeyError(out)
            return out
        """,
            "mail.py": """
        from tmpl.render import render


        def welcome(name):
            return render("Hi {name}", {"name": name}, strict=False)
        """,
        },
    ),
    {
        "tests/test_render.py": """
        from tmpl.render import render


        def test_render():
            assert render("{a}+{b}", {"a": 1, "b": 2}, strict=False) == "1+2"
        """
    },
)

case(
    "sig-add-required-unittest",
    "signature_add",
    "unittest",
    "test",
    pkg(
        "netcfg",
        {
            "conn.py": """
        class Connection:
            def __init__(self, host):
                self.host = host

            def url(self):
                return f"tcp://{self.host}"
        """
        },
    ),
    {
        "tests/test_conn.py": """
        import unittest

        from netcfg.conn import Connection


        class ConnTest(unittest.TestCase):
            def test_host(self):
                self.assertTrue(Connection("db").url().startswith("tcp://db"))
        """
    },
    pkg(
        "netcfg",
        {
            "conn.py": """
        class Connection:
            def __init__(self, host, port):
                self.host = host
                self.port = port

            def url(self):
                return f"tcp://{self.host}:{self.port}"
        """
        },
    ),
    {
        "tests/test_conn.py": """
        import unittest

        from netcfg.conn import Connection


        class ConnTest(unittest.TestCase):
            def test_host(self):
                self.assertTrue(Connection("db", 5432).url().startswith("tcp://db"))
        """
    },
    new_tests={
        "tests/test_port.py": """
        import unittest

        from netcfg.conn import Connection


        class PortTest(unittest.TestCase):
            def test_port_in_url(self):
                self.assertEqual(Connection("db", 5432).url(), "tcp://db:5432")
        """
    },
    notes="the value for the new parameter comes from the test the developer added",
)

case(
    "sig-remove-param-pytest",
    "signature_remove",
    "pytest",
    "test",
    pkg(
        "pager",
        {
            "pages.py": """
        def paginate(items, per_page, total):
            pages = []
            for start in range(0, min(total, len(items)), per_page):
                pages.append(items[start:start + per_page])
            return pages
        """
        },
    ),
    {
        "tests/test_pages.py": """
        from pager.pages import paginate


        def test_two_pages():
            assert paginate([1, 2, 3], 2, 3) == [[1, 2], [3]]
        """
    },
    pkg(
        "pager",
        {
            "pages.py": """
        def paginate(items, per_page):
            pages = []
            for start in range(0, len(items), per_page):
                pages.append(items[start:start + per_page])
            return pages
        """
        },
    ),
    {
        "tests/test_pages.py": """
        from pager.pages import paginate


        def test_two_pages():
            assert paginate([1, 2, 3], 2) == [[1, 2], [3]]
        """
    },
)

case(
    "sig-remove-kw-unittest",
    "signature_remove",
    "unittest",
    "test",
    pkg(
        "loglib",
        {
            "fmt.py": """
        def format_record(level, msg, verbose=False):
            prefix = f"[{level.upper()}]"
            return f"{prefix} {msg}"
        """
        },
    ),
    {
        "tests/test_fmt.py": """
        import unittest

        from loglib.fmt import format_record


        class FormatTest(unittest.TestCase):
            def test_prefix(self):
                self.assertEqual(format_record("info", "ready", verbose=True), "[INFO] ready")
        """
    },
    pkg(
        "loglib",
        {
            "fmt.py": """
        def format_record(level, msg):
            prefix = f"[{level.upper()}]"
            return f"{prefix} {msg}"
        """
        },
    ),
    {
        "tests/test_fmt.py": """
        import unittest

        from loglib.fmt import format_record


        class FormatTest(unittest.TestCase):
            def test_prefix(self):
                self.assertEqual(format_record("info", "ready"), "[INFO] ready")
        """
    },
)

case(
    "sig-rename-kw-pytest",
    "signature_rename",
    "pytest",
    "test",
    pkg(
        "textkit",
        {
            "wrap.py": """
        def wrap(text, width=70):
            words, lines, cur = text.split(), [], ""
            for w in words:
                if cur and len(cur) + 1 + len(w) > width:
                    lines.append(cur)
                    cur = w
                else:
                    cur = f"{cur} {w}" if cur else w
            if cur:
                lines.append(cur)
            return lines
        """
        },
    ),
    {
        "tests/test_wrap.py": """
        from textkit.wrap import wrap


        def test_narrow():
            assert wrap("aa bb cc", width=5) == ["aa bb", "cc"]
        """
    },
    pkg(
        "textkit",
        {
            "wrap.py": """
        def wrap(text, max_width=70):
            words, lines, cur = text.split(), [], ""
            for w in words:
                if cur and len(cur) + 1 + len(w) > max_width:
                    lines.append(cur)
                    cur = w
                else:
                    cur = f"{cur} {w}" if cur else w
            if cur:
                lines.append(cur)
            return lines
        """
        },
    ),
    {
        "tests/test_wrap.py": """
        from textkit.wrap import wrap


        def test_narrow():
            assert wrap("aa bb cc", max_width=5) == ["aa bb", "cc"]
        """
    },
)

case(
    "sig-rename-kw-unittest",
    "signature_rename",
    "unittest",
    "test",
    pkg(
        "retrying",
        {
            "policy.py": """
        class Retry:
            def __init__(self, attempts=3, backoff=1.0):
                self.attempts = attempts
                self.backoff = backoff

            def delays(self):
                return [self.backoff * 2 ** i for i in range(self.attempts - 1)]
        """
        },
    ),
    {
        "tests/test_policy.py": """
        import unittest

        from retrying.policy import Retry


        class RetryTest(unittest.TestCase):
            def test_delays(self):
                self.assertEqual(Retry(attempts=4, backoff=0.5).delays(), [0.5, 1.0, 2.0])
        """
    },
    pkg(
        "retrying",
        {
            "policy.py": """
        class Retry:
            def __init__(self, max_attempts=3, backoff=1.0):
                self.max_attempts = max_attempts
                self.backoff = backoff

            def delays(self):
                return [self.backoff * 2 ** i for i in range(self.max_attempts - 1)]
        """
        },
    ),
    {
        "tests/test_policy.py": """
        import unittest

        from retrying.policy import Retry


        class RetryTest(unittest.TestCase):
            def test_delays(self):
                self.assertEqual(Retry(max_attempts=4, backoff=0.5).delays(), [0.5, 1.0, 2.0])
        """
    },
)

case(
    "sig-reorder-pytest",
    "signature_reorder",
    "pytest",
    "test",
    pkg(
        "mathx",
        {
            "bounds.py": """
        def clamp(value, lo, hi):
            return max(lo, min(hi, value))
        """
        },
    ),
    {
        "tests/test_bounds.py": """
        from mathx.bounds import clamp


        def test_clamp_high():
            assert clamp(15, 0, 10) == 10


        def test_clamp_low():
            assert clamp(-3, 0, 10) == 0
        """
    },
    pkg(
        "mathx",
        {
            "bounds.py": """
        def clamp(lo, hi, value):
            return max(lo, min(hi, value))
        """
        },
    ),
    {
        "tests/test_bounds.py": """
        from mathx.bounds import clamp


        def test_clamp_high():
            assert clamp(0, 10, 15) == 10


        def test_clamp_low():
            assert clamp(0, 10, -3) == 0
        """
    },
)

case(
    "sig-reorder-unittest",
    "signature_reorder",
    "unittest",
    "test",
    pkg(
        "strutil",
        {
            "pad.py": """
        def pad(text, width, fill=" "):
            return text + fill * (width - len(text))
        """,
            "table.py": """
        from strutil.pad import pad


        def row(cells, width):
            return "|".join(pad(c, width) for c in cells)
        """,
        },
    ),
    {
        "tests/test_pad.py": """
        import unittest

        from strutil.pad import pad


        class PadTest(unittest.TestCase):
            def test_pad(self):
                self.assertEqual(pad("ab", 4, "."), "ab..")
        """
    },
    pkg(
        "strutil",
        {
            "pad.py": """
        def pad(text, fill, width):
            return text + fill * (width - len(text))
        """,
            "table.py": """
        from strutil.pad import pad


        def row(cells, width):
            return "|".join(pad(c, " ", width) for c in cells)
        """,
        },
    ),
    {
        "tests/test_pad.py": """
        import unittest

        from strutil.pad import pad


        class PadTest(unittest.TestCase):
            def test_pad(self):
                self.assertEqual(pad("ab", ".", 4), "ab..")
        """
    },
)

case(
    "default-change-pytest",
    "default_change",
    "pytest",
    "test",
    pkg(
        "money",
        {
            "fmt.py": """
        def format_price(amount, currency="USD"):
            return f"{amount:.2f} {currency}"
        """
        },
    ),
    {
        "tests/test_fmt.py": """
        from money.fmt import format_price


        def test_default_currency():
            assert format_price(3) == "3.00 USD"


        def test_explicit():
            assert format_price(2.5, currency="GBP") == "2.50 GBP"
        """
    },
    pkg(
        "money",
        {
            "fmt.py": """
        def format_price(amount, currency="EUR"):
            return f"{amount:.2f} {currency}"
        """
        },
    ),
    {
        "tests/test_fmt.py": """
        from money.fmt import format_price


        def test_default_currency():
            assert format_price(3) == "3.00 EUR"


        def test_explicit():
            assert format_price(2.5, currency="GBP") == "2.50 GBP"
        """
    },
)

case(
    "default-change-unittest",
    "default_change",
    "unittest",
    "test",
    pkg(
        "stats",
        {
            "rounding.py": """
        def round_to(x, ndigits=2):
            return round(x, ndigits)
        """
        },
    ),
    {
        "tests/test_rounding.py": """
        import unittest

        from stats.rounding import round_to


        class RoundTest(unittest.TestCase):
            def test_default(self):
                self.assertEqual(round_to(3.14159), 3.14)
        """
    },
    pkg(
        "stats",
        {
            "rounding.py": """
        def round_to(x, ndigits=3):
            return round(x, ndigits)
        """
        },
    ),
    {
        "tests/test_rounding.py": """
        import unittest

        from stats.rounding import round_to


        class RoundTest(unittest.TestCase):
            def test_default(self):
                self.assertEqual(round_to(3.14159), 3.142)
        """
    },
)

# ------------------------------------------------------------------ return values

case(
    "return-string-pytest",
    "return_value",
    "pytest",
    "test",
    pkg(
        "hello",
        {
            "greet.py": """
        def greet(name):
            return "Hello, " + name
        """
        },
    ),
    {
        "tests/test_greet.py": """
        from hello.greet import greet


        def test_greet():
            assert greet("Ann") == "Hello, Ann"
        """
    },
    pkg(
        "hello",
        {
            "greet.py": """
        def greet(name):
            return f"Hello, {name}!"
        """
        },
    ),
    {
        "tests/test_greet.py": """
        from hello.greet import greet


        def test_greet():
            assert greet("Ann") == "Hello, Ann!"
        """
    },
)

case(
    "return-dict-unittest",
    "return_value",
    "unittest",
    "test",
    pkg(
        "stats",
        {
            "summary.py": """
        def summarize(nums):
            \"\"\"Count, min and max of a list of numbers.\"\"\"
            return {"count": len(nums), "min": min(nums), "max": max(nums)}
        """
        },
    ),
    {
        "tests/test_summary.py": """
        import unittest

        from stats.summary import summarize


        class SummaryTest(unittest.TestCase):
            def test_summary(self):
                self.assertEqual(summarize([3, 1, 2]), {"count": 3, "min": 1, "max": 3})
        """
    },
    pkg(
        "stats",
        {
            "summary.py": """
        def summarize(nums):
            \"\"\"Count, min, max and mean of a list of numbers.\"\"\"
            return {"count": len(nums), "min": min(nums), "max": max(nums), "mean": sum(nums) / len(nums)}
        """
        },
    ),
    {
        "tests/test_summary.py": """
        import unittest

        from stats.summary import summarize


        class SummaryTest(unittest.TestCase):
            def test_summary(self):
                self.assertEqual(summarize([3, 1, 2]), {'count': 3, 'min': 1, 'max': 3, 'mean': 2.0})
        """
    },
)

case(
    "return-multiline-pytest",
    "return_value",
    "pytest",
    "test",
    pkg(
        "report",
        {
            "banner.py": """
        def banner(title):
            line = "=" * len(title)
            return f"{line}\\n{title}\\n{line}"
        """
        },
    ),
    {
        "tests/test_banner.py": """
        from report.banner import banner


        def test_banner():
            assert banner("Hi") == \"\"\"==
        Hi
        ==\"\"\"
        """
    },
    pkg(
        "report",
        {
            "banner.py": """
        def banner(title):
            line = "-" * (len(title) + 4)
            return f"{line}\\n| {title} |\\n{line}"
        """
        },
    ),
    {
        "tests/test_banner.py": """
        from report.banner import banner


        def test_banner():
            assert banner("Hi") == \"\"\"------
        | Hi |
        ------\"\"\"
        """
    },
)

case(
    "return-parametrize-pytest",
    "return_value",
    "pytest",
    "test",
    pkg(
        "lexer",
        {
            "tokens.py": """
        def tokenize(text):
            return text.split()
        """
        },
    ),
    {
        "tests/test_tokens.py": """
        import pytest

        from lexer.tokens import tokenize


        @pytest.mark.parametrize(
            "text, expected",
            [
                ("a b", ["a", "b"]),
                ("Hello  World", ["Hello", "World"]),
                ("", []),
            ],
        )
        def test_tokenize(text, expected):
            assert tokenize(text) == expected
        """
    },
    pkg(
        "lexer",
        {
            "tokens.py": """
        def tokenize(text):
            return [t.lower() for t in text.split()]
        """
        },
    ),
    {
        "tests/test_tokens.py": """
        import pytest

        from lexer.tokens import tokenize


        @pytest.mark.parametrize(
            "text, expected",
            [
                ("a b", ["a", "b"]),
                ("Hello  World", ['hello', 'world']),
                ("", []),
            ],
        )
        def test_tokenize(text, expected):
            assert tokenize(text) == expected
        """
    },
)

case(
    "return-approx-pytest",
    "return_value",
    "pytest",
    "test",
    pkg(
        "physics",
        {
            "speed.py": """
        def average_speed(distance_km, hours):
            \"\"\"Average speed in km/h.\"\"\"
            return distance_km / hours
        """
        },
    ),
    {
        "tests/test_speed.py": """
        import pytest

        from physics.speed import average_speed


        def test_speed():
            assert average_speed(100, 2) == pytest.approx(50.0)
        """
    },
    pkg(
        "physics",
        {
            "speed.py": """
        def average_speed(distance_km, hours):
            \"\"\"Average speed in m/s.\"\"\"
            return distance_km * 1000 / (hours * 3600)
        """
        },
    ),
    {
        "tests/test_speed.py": """
        import pytest

        from physics.speed import average_speed


        def test_speed():
            assert average_speed(100, 2) == pytest.approx(13.88888888888889)
        """
    },
)

case(
    "return-local-expected-unittest",
    "return_value",
    "unittest",
    "test",
    pkg(
        "csvlite",
        {
            "reader.py": """
        def parse_line(line):
            return [cell.strip() for cell in line.split(",")]
        """
        },
    ),
    {
        "tests/test_reader.py": """
        import unittest

        from csvlite.reader import parse_line


        class ReaderTest(unittest.TestCase):
            def test_numbers(self):
                result = parse_line("1, 2,3")
                expected = ["1", "2", "3"]
                self.assertEqual(result, expected)
        """
    },
    pkg(
        "csvlite",
        {
            "reader.py": """
        def parse_line(line):
            cells = [cell.strip() for cell in line.split(",")]
            return [int(c) if c.isdigit() else c for c in cells]
        """
        },
    ),
    {
        "tests/test_reader.py": """
        import unittest

        from csvlite.reader import parse_line


        class ReaderTest(unittest.TestCase):
            def test_numbers(self):
                result = parse_line("1, 2,3")
                expected = [1, 2, 3]
                self.assertEqual(result, expected)
        """
    },
)

# ------------------------------------------------------------------ exceptions

case(
    "exception-type-pytest",
    "exception_type",
    "pytest",
    "test",
    pkg(
        "conf",
        {
            "loader.py": """
        class ConfigError(Exception):
            pass


        def load(text):
            data = {}
            for line in text.splitlines():
                if "=" not in line:
                    raise ValueError(f"bad line: {line}")
                key, value = line.split("=", 1)
                data[key.strip()] = value.strip()
            return data
        """
        },
    ),
    {
        "tests/test_loader.py": """
        import pytest

        from conf.loader import load


        def test_load():
            assert load("a = 1") == {"a": "1"}


        def test_bad_line():
            with pytest.raises(ValueError):
                load("oops")
        """
    },
    pkg(
        "conf",
        {
            "loader.py": """
        class ConfigError(Exception):
            pass


        def load(text):
            data = {}
            for line in text.splitlines():
                if "=" not in line:
                    raise ConfigError(f"bad line: {line}")
                key, value = line.split("=", 1)
                data[key.strip()] = value.strip()
            return data
        """
        },
    ),
    {
        "tests/test_loader.py": """
        import pytest

        from conf.loader import load, ConfigError


        def test_load():
            assert load("a = 1") == {"a": "1"}


        def test_bad_line():
            with pytest.raises(ConfigError):
                load("oops")
        """
    },
)

case(
    "exception-type-unittest",
    "exception_type",
    "unittest",
    "test",
    pkg(
        "money",
        {
            "convert.py": """
        def to_cents(amount):
            if not isinstance(amount, (int, float)):
                raise TypeError("amount must be a number")
            return round(amount * 100)
        """
        },
    ),
    {
        "tests/test_convert.py": """
        import unittest

        from money.convert import to_cents


        class CentsTest(unittest.TestCase):
            def test_cents(self):
                self.assertEqual(to_cents(1.25), 125)

            def test_not_number(self):
                self.assertRaises(TypeError, to_cents, "1.25")
        """
    },
    pkg(
        "money",
        {
            "convert.py": """
        def to_cents(amount):
            if not isinstance(amount, (int, float)):
                raise ValueError("amount must be a number")
            return round(amount * 100)
        """
        },
    ),
    {
        "tests/test_convert.py": """
        import unittest

        from money.convert import to_cents


        class CentsTest(unittest.TestCase):
            def test_cents(self):
                self.assertEqual(to_cents(1.25), 125)

            def test_not_number(self):
                self.assertRaises(ValueError, to_cents, "1.25")
        """
    },
)

case(
    "exception-message-pytest",
    "exception_message",
    "pytest",
    "test",
    pkg(
        "bank",
        {
            "transfer.py": """
        def transfer(amount):
            if amount <= 0:
                raise ValueError("amount must be positive")
            return {"amount": amount}
        """
        },
    ),
    {
        "tests/test_transfer.py": """
        import pytest

        from bank.transfer import transfer


        def test_negative():
            with pytest.raises(ValueError, match="must be positive"):
                transfer(-1)
        """
    },
    pkg(
        "bank",
        {
            "transfer.py": """
        def transfer(amount):
            if amount <= 0:
                raise ValueError(f"invalid transfer amount: {amount}")
            return {"amount": amount}
        """
        },
    ),
    {
        "tests/test_transfer.py": """
        import pytest

        from bank.transfer import transfer


        def test_negative():
            with pytest.raises(ValueError, match="invalid transfer amount: -1"):
                transfer(-1)
        """
    },
)

case(
    "exception-message-unittest",
    "exception_message",
    "unittest",
    "test",
    pkg(
        "netcfg",
        {
            "ports.py": """
        def check_port(port):
            if not 0 < port < 65536:
                raise ValueError("invalid port")
            return port
        """
        },
    ),
    {
        "tests/test_ports.py": """
        import unittest

        from netcfg.ports import check_port


        class PortTest(unittest.TestCase):
            def test_range(self):
                with self.assertRaisesRegex(ValueError, "invalid port"):
                    check_port(70000)
        """
    },
    pkg(
        "netcfg",
        {
            "ports.py": """
        def check_port(port):
            if not 0 < port < 65536:
                raise ValueError("port out of range")
            return port
        """
        },
    ),
    {
        "tests/test_ports.py": """
        import unittest

        from netcfg.ports import check_port


        class PortTest(unittest.TestCase):
            def test_range(self):
                with self.assertRaisesRegex(ValueError, "port out of range"):
                    check_port(70000)
        """
    },
)

case(
    "rename-and-value-pytest",
    "rename_function",
    "pytest",
    "test",
    pkg(
        "units",
        {
            "length.py": """
        def km_to_miles(km):
            return round(km * 0.621, 2)
        """
        },
    ),
    {
        "tests/test_length.py": """
        from units.length import km_to_miles


        def test_ten():
            assert km_to_miles(10) == 6.21
        """
    },
    pkg(
        "units",
        {
            "length.py": """
        def kilometres_to_miles(km):
            return round(km * 0.621371, 3)
        """
        },
    ),
    {
        "tests/test_length.py": """
        from units.length import kilometres_to_miles


        def test_ten():
            assert kilometres_to_miles(10) == 6.214
        """
    },
    notes="two rounds: the rename first, then the new value",
)

# ------------------------------------------------------------------ real bugs: the tests are right

case(
    "bug-off-by-one-pytest",
    "bug",
    "pytest",
    "code",
    pkg(
        "pager",
        {
            "pages.py": """
        def page(items, number, size=10):
            start = (number - 1) * size
            return items[start:start + size]
        """
        },
    ),
    {
        "tests/test_pages.py": """
        from pager.pages import page


        def test_second_page():
            assert page(list(range(25)), 2) == list(range(10, 20))
        """
    },
    pkg(
        "pager",
        {
            "pages.py": """
        def page(items, number, size=10):
            begin = (number - 1) * size
            return items[begin:begin + size - 1]
        """
        },
    ),
    {
        "pager/pages.py": """
        def page(items, number, size=10):
            begin = (number - 1) * size
            return items[begin:begin + size]
        """
    },
    notes="a refactor renamed a local and slipped an off-by-one",
)

case(
    "bug-comparison-unittest",
    "bug",
    "unittest",
    "code",
    pkg(
        "people",
        {
            "age.py": """
        def is_adult(age, threshold=18):
            return age >= threshold
        """
        },
    ),
    {
        "tests/test_age.py": """
        import unittest

        from people.age import is_adult


        class AgeTest(unittest.TestCase):
            def test_boundary(self):
                self.assertTrue(is_adult(18))

            def test_minor(self):
                self.assertFalse(is_adult(17))
        """
    },
    pkg(
        "people",
        {
            "age.py": """
        def is_adult(age, threshold=18):
            return age > threshold
        """
        },
    ),
    {
        "people/age.py": """
        def is_adult(age, threshold=18):
            return age >= threshold
        """
    },
)

case(
    "bug-lost-strip-pytest",
    "bug",
    "pytest",
    "code",
    pkg(
        "users",
        {
            "names.py": """
        def normalize(name):
            return name.strip().lower()


        def same_user(a, b):
            return normalize(a) == normalize(b)
        """
        },
    ),
    {
        "tests/test_names.py": """
        from users.names import normalize, same_user


        def test_normalize():
            assert normalize("  Bob ") == "bob"


        def test_same():
            assert same_user("Ann", " ann")
        """
    },
    pkg(
        "users",
        {
            "names.py": """
        def normalize(name):
            return name.lower()


        def same_user(a, b):
            return normalize(a) == normalize(b)
        """
        },
    ),
    {
        "users/names.py": """
        def normalize(name):
            return name.strip().lower()


        def same_user(a, b):
            return normalize(a) == normalize(b)
        """
    },
)

case(
    "bug-name-swap-unittest",
    "bug",
    "unittest",
    "code",
    pkg(
        "shop",
        {
            "discount.py": """
        def final_price(price, rate, fee=0.0):
            discounted = price * (1 - rate)
            return round(discounted + fee, 2)
        """
        },
    ),
    {
        "tests/test_discount.py": """
        import unittest

        from shop.discount import final_price


        class DiscountTest(unittest.TestCase):
            def test_rate(self):
                self.assertEqual(final_price(100, 0.2, fee=1.5), 81.5)
        """
    },
    pkg(
        "shop",
        {
            "discount.py": """
        def final_price(price, rate, fee=0.0):
            discounted = price * (1 - fee)
            return round(discounted + fee, 2)
        """
        },
    ),
    {
        "shop/discount.py": """
        def final_price(price, rate, fee=0.0):
            discounted = price * (1 - rate)
            return round(discounted + fee, 2)
        """
    },
)

case(
    "bug-lost-validation-pytest",
    "bug",
    "pytest",
    "code",
    pkg(
        "inventory",
        {
            "orders.py": """
        def reserve(stock, qty):
            if qty > stock:
                raise ValueError("not enough stock")
            return stock - qty
        """
        },
    ),
    {
        "tests/test_orders.py": """
        import pytest

        from inventory.orders import reserve


        def test_reserve():
            assert reserve(5, 2) == 3


        def test_too_many():
            with pytest.raises(ValueError):
                reserve(1, 2)
        """
    },
    pkg(
        "inventory",
        {
            "orders.py": """
        def reserve(stock, qty):
            return stock - qty
        """
        },
    ),
    {
        "inventory/orders.py": """
        def reserve(stock, qty):
            if qty > stock:
                raise ValueError("not enough stock")
            return stock - qty
        """
    },
)

case(
    "bug-missed-rename-pytest",
    "bug",
    "pytest",
    "code",
    pkg(
        "textkit",
        {
            "case.py": """
        def to_snake(name):
            out = []
            for ch in name:
                if ch.isupper() and out:
                    out.append("_")
                out.append(ch.lower())
            return "".join(out)


        def snake_keys(d):
            return {to_snake(k): v for k, v in d.items()}
        """
        },
    ),
    {
        "tests/test_case.py": """
        from textkit.case import snake_keys


        def test_keys():
            assert snake_keys({"userId": 1}) == {"user_id": 1}
        """
    },
    pkg(
        "textkit",
        {
            "case.py": """
        def snake_case(name):
            out = []
            for ch in name:
                if ch.isupper() and out:
                    out.append("_")
                out.append(ch.lower())
            return "".join(out)


        def snake_keys(d):
            return {to_snake(k): v for k, v in d.items()}
        """
        },
    ),
    {
        "textkit/case.py": """
        def snake_case(name):
            out = []
            for ch in name:
                if ch.isupper() and out:
                    out.append("_")
                out.append(ch.lower())
            return "".join(out)


        def snake_keys(d):
            return {snake_case(k): v for k, v in d.items()}
        """
    },
    notes="the function was renamed but a caller in the library still uses the old name",
)

case(
    "bug-internal-signature-unittest",
    "bug",
    "unittest",
    "code",
    pkg(
        "invoice",
        {
            "tax.py": """
        def tax(amount, rate):
            return round(amount * rate, 2)
        """,
            "total.py": """
        from invoice.tax import tax


        def total(amount):
            return amount + tax(amount, 0.2)
        """,
        },
    ),
    {
        "tests/test_total.py": """
        import unittest

        from invoice.total import total


        class TotalTest(unittest.TestCase):
            def test_total(self):
                self.assertEqual(total(10), 12.0)
        """
    },
    pkg(
        "invoice",
        {
            "tax.py": """
        def tax(amount, rate, region):
            base = round(amount * rate, 2)
            return base if region != "exempt" else 0.0
        """
        },
    ),
    {
        "invoice/total.py": """
        from invoice.tax import tax


        def total(amount):
            return amount + tax(amount, 0.2, "default")
        """
    },
    notes="a helper gained a parameter; its library caller was not updated",
)

case(
    "bug-doctest-rewrite-unittest",
    "bug",
    "unittest",
    "code",
    pkg(
        "mathx",
        {
            "evens.py": """
        def even_squares(nums):
            \"\"\"Squares of the even numbers.

            >>> even_squares([1, 2, 3, 4])
            [4, 16]
            \"\"\"
            out = []
            for n in nums:
                if n % 2 == 0:
                    out.append(n * n)
            return out
        """
        },
    ),
    {
        "tests/test_evens.py": """
        import unittest

        from mathx.evens import even_squares


        class EvensTest(unittest.TestCase):
            def test_mixed(self):
                self.assertEqual(even_squares([1, 2, 3, 4]), [4, 16])
        """
    },
    pkg(
        "mathx",
        {
            "evens.py": """
        def even_squares(nums):
            \"\"\"Squares of the even numbers.

            >>> even_squares([1, 2, 3, 4])
            [4, 16]
            \"\"\"
            return [n * n for n in nums]
        """
        },
    ),
    {
        "mathx/evens.py": """
        def even_squares(nums):
            \"\"\"Squares of the even numbers.

            >>> even_squares([1, 2, 3, 4])
            [4, 16]
            \"\"\"
            return [n * n for n in nums if n % 2 == 0]
        """
    },
    notes="a rewrite into a comprehension dropped the filter; the docstring still states the old result",
)

case(
    "bug-operator-pytest",
    "bug",
    "pytest",
    "code",
    pkg(
        "geom",
        {
            "rect.py": """
        class Rect:
            def __init__(self, w, h):
                self.w = w
                self.h = h

            def area(self):
                return self.w * self.h

            def perimeter(self):
                return 2 * (self.w + self.h)
        """
        },
    ),
    {
        "tests/test_rect.py": """
        from geom.rect import Rect


        def test_perimeter():
            assert Rect(2, 3).perimeter() == 10
        """
    },
    pkg(
        "geom",
        {
            "rect.py": """
        class Rect:
            def __init__(self, w, h):
                self.w = w
                self.h = h

            def area(self):
                return self.w * self.h

            def perimeter(self):
                return 2 * (self.w * self.h)
        """
        },
    ),
    {
        "geom/rect.py": """
        class Rect:
            def __init__(self, w, h):
                self.w = w
                self.h = h

            def area(self):
                return self.w * self.h

            def perimeter(self):
                return 2 * (self.w + self.h)
        """
    },
)


# ---------------------------------------- harder shapes (deep calls, constants, rounds)

case(
    "return-deep-call-pytest",
    "return_value",
    "pytest",
    "test",
    pkg(
        "report",
        {
            "table.py": """
        def _fmt_cell(value):
            return str(value)


        def _row(values):
            return " | ".join(_fmt_cell(v) for v in values)


        class Table:
            def __init__(self, rows):
                self.rows = rows

            def render(self):
                return "\\n".join(_row(r) for r in self.rows)
        """
        },
    ),
    {
        "tests/test_table.py": """
        from report.table import Table


        def test_render():
            table = Table([[1.5, 2]])
            assert table.render() == "1.5 | 2"
        """
    },
    pkg(
        "report",
        {
            "table.py": """
        def _fmt_cell(value):
            if isinstance(value, float):
                return f"{value:.2f}"
            return str(value)


        def _row(values):
            return " | ".join(_fmt_cell(v) for v in values)


        class Table:
            def __init__(self, rows):
                self.rows = rows

            def render(self):
                return "\\n".join(_row(r) for r in self.rows)
        """
        },
    ),
    {
        "tests/test_table.py": """
        from report.table import Table


        def test_render():
            table = Table([[1.5, 2]])
            assert table.render() == "1.50 | 2"
        """
    },
    notes="the changed helper is two calls away from the test",
)

case(
    "rename-constant-pytest",
    "rename_constant",
    "pytest",
    "test",
    pkg(
        "httpx2",
        {
            "settings.py": """
        DEFAULT_TIMEOUT = 30


        def timeout_for(kind):
            return DEFAULT_TIMEOUT * (2 if kind == "upload" else 1)
        """
        },
    ),
    {
        "tests/test_settings.py": """
        from httpx2.settings import DEFAULT_TIMEOUT, timeout_for


        def test_upload_doubles():
            assert timeout_for("upload") == 2 * DEFAULT_TIMEOUT
        """
    },
    pkg(
        "httpx2",
        {
            "settings.py": """
        TIMEOUT_SECONDS = 30


        def timeout_for(kind):
            return TIMEOUT_SECONDS * (2 if kind == "upload" else 1)
        """
        },
    ),
    {
        "tests/test_settings.py": """
        from httpx2.settings import TIMEOUT_SECONDS, timeout_for


        def test_upload_doubles():
            assert timeout_for("upload") == 2 * TIMEOUT_SECONDS
        """
    },
)

case(
    "return-two-asserts-unittest",
    "return_value",
    "unittest",
    "test",
    pkg(
        "semver",
        {
            "parse.py": """
        def parse_version(text):
            \"\"\"The version as a tuple of ints.\"\"\"
            return tuple(int(p) for p in text.split("."))
        """
        },
    ),
    {
        "tests/test_parse.py": """
        import unittest

        from semver.parse import parse_version


        class ParseTest(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse_version("1.2"), (1, 2))
                self.assertEqual(parse_version("1.2.3"), (1, 2, 3))
        """
    },
    pkg(
        "semver",
        {
            "parse.py": """
        def parse_version(text):
            \"\"\"The version as a list of ints, padded to three parts.\"\"\"
            parts = [int(p) for p in text.split(".")]
            return parts + [0] * (3 - len(parts))
        """
        },
    ),
    {
        "tests/test_parse.py": """
        import unittest

        from semver.parse import parse_version


        class ParseTest(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse_version("1.2"), [1, 2, 0])
                self.assertEqual(parse_version("1.2.3"), [1, 2, 3])
        """
    },
    notes="two assertions of one test change: two rounds",
)

case(
    "default-attribute-pytest",
    "default_change",
    "pytest",
    "test",
    pkg(
        "jobs",
        {
            "config.py": """
        class Config:
            def __init__(self, retries=3, queue="default"):
                self.retries = retries
                self.queue = queue
        """
        },
    ),
    {
        "tests/test_config.py": """
        from jobs.config import Config


        def test_defaults():
            cfg = Config()
            assert cfg.retries == 3
            assert cfg.queue == "default"
        """
    },
    pkg(
        "jobs",
        {
            "config.py": """
        class Config:
            def __init__(self, retries=5, queue="default"):
                self.retries = retries
                self.queue = queue
        """
        },
    ),
    {
        "tests/test_config.py": """
        from jobs.config import Config


        def test_defaults():
            cfg = Config()
            assert cfg.retries == 5
            assert cfg.queue == "default"
        """
    },
)

case(
    "sig-add-kwonly-pytest",
    "signature_add",
    "pytest",
    "test",
    pkg(
        "netio",
        {
            "client.py": """
        def connect(host):
            return {"host": host}
        """,
            "pool.py": """
        from netio.client import connect


        def open_all(hosts):
            return [connect(h) for h in hosts]
        """,
        },
    ),
    {
        "tests/test_client.py": """
        from netio.client import connect


        def test_connect():
            assert connect("db")["host"] == "db"
        """
    },
    pkg(
        "netio",
        {
            "client.py": """
        def connect(host, *, timeout):
            return {"host": host, "timeout": timeout}
        """,
            "pool.py": """
        from netio.client import connect


        def open_all(hosts):
            return [connect(h, timeout=10) for h in hosts]
        """,
        },
    ),
    {
        "tests/test_client.py": """
        from netio.client import connect


        def test_connect():
            assert connect("db", timeout=10)["host"] == "db"
        """
    },
)

case(
    "exception-new-module-unittest",
    "exception_type",
    "unittest",
    "test",
    pkg(
        "accounts",
        {
            "service.py": """
        USERS = set()


        def register(name):
            if name in USERS:
                raise ValueError(f"username taken: {name}")
            USERS.add(name)
            return name
        """
        },
    ),
    {
        "tests/test_service.py": """
        import unittest

        from accounts.service import register


        class RegisterTest(unittest.TestCase):
            def test_duplicate(self):
                register("ann")
                with self.assertRaises(ValueError):
                    register("ann")
        """
    },
    pkg(
        "accounts",
        {
            "errors.py": """
        class UserExists(Exception):
            pass
        """,
            "service.py": """
        from accounts.errors import UserExists

        USERS = set()


        def register(name):
            if name in USERS:
                raise UserExists(f"username taken: {name}")
            USERS.add(name)
            return name
        """,
        },
    ),
    {
        "tests/test_service.py": """
        import unittest

        from accounts.service import register
        from accounts.errors import UserExists


        class RegisterTest(unittest.TestCase):
            def test_duplicate(self):
                register("ann")
                with self.assertRaises(UserExists):
                    register("ann")
        """
    },
    notes="the new exception lives in a new module the test must import",
)

case(
    "bug-swapped-args-pytest",
    "bug",
    "pytest",
    "code",
    pkg(
        "stats",
        {
            "share.py": """
        def _ratio(part, total):
            return part / total if total else 0.0


        def percent(part, total):
            return round(100 * _ratio(part, total), 1)
        """
        },
    ),
    {
        "tests/test_share.py": """
        from stats.share import percent


        def test_percent():
            assert percent(1, 4) == 25.0
        """
    },
    pkg(
        "stats",
        {
            "share.py": """
        def _ratio(part, total):
            return part / total if total else 0.0


        def percent(part, total):
            return round(100 * _ratio(total, part), 1)
        """
        },
    ),
    {
        "stats/share.py": """
        def _ratio(part, total):
            return part / total if total else 0.0


        def percent(part, total):
            return round(100 * _ratio(part, total), 1)
        """
    },
)

case(
    "bug-constant-typo-unittest",
    "bug",
    "unittest",
    "code",
    pkg(
        "timeutil",
        {
            "units.py": """
        SECONDS_PER_DAY = 86400


        def days_to_seconds(days):
            return days * SECONDS_PER_DAY
        """
        },
    ),
    {
        "tests/test_units.py": """
        import unittest

        from timeutil.units import days_to_seconds


        class UnitsTest(unittest.TestCase):
            def test_two_days(self):
                self.assertEqual(days_to_seconds(2), 172800)
        """
    },
    pkg(
        "timeutil",
        {
            "units.py": """
        SECONDS_PER_DAY = 8640


        def days_to_seconds(days):
            return days * SECONDS_PER_DAY
        """
        },
    ),
    {
        "timeutil/units.py": """
        SECONDS_PER_DAY = 86400


        def days_to_seconds(days):
            return days * SECONDS_PER_DAY
        """
    },
    notes="a digit was lost while editing the module",
)

if __name__ == "__main__":
    out = Path(__file__).with_name("cases.jsonl")
    with out.open("w", encoding="utf-8") as fh:
        for c in CASES:
            fh.write(json.dumps(c) + "\n")
    print(f"{len(CASES)} cases -> {out}")
