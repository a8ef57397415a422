"""Cell-level parsing: prices, HTML, booleans, lists. Pure functions, no I/O."""

from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation

from skureel.domain import Money

_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "¥": "JPY", "₫": "VND", "kr": "SEK", "zł": "PLN"}
_CODE = re.compile(r"\b([A-Za-z]{3})\b")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]+>", re.S | re.I)
_BLOCK = re.compile(r"</?(p|br|li|div|h\d|tr|ul|ol)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\u00a0]+")


class PriceError(ValueError):
    pass


_PLAIN = re.compile(r"\d{1,15}(?:\.\d{1,6})?")
_PLAIN_CACHE: dict[tuple[str, str | None], Money] = {}


def parse_money(text: str, default_currency: str | None = None) -> Money | None:
    """Parse '799 INR', '49,00 TND', '$1,234.50', '1050000', '1.234,50 €' into Money."""
    raw = text.strip()
    if not raw:
        return None
    if _PLAIN.fullmatch(raw):  # the common case in exports: skip the general parser
        # a catalog repeats a few prices over thousands of variants; Money is frozen, so one value serves them all
        key = (raw, default_currency)
        money = _PLAIN_CACHE.get(key)
        if money is None:
            if len(_PLAIN_CACHE) >= 4096:
                _PLAIN_CACHE.clear()
            money = _PLAIN_CACHE[key] = Money(amount=Decimal(raw), currency=default_currency)
        return money
    currency = default_currency
    for symbol, code in _SYMBOLS.items():
        if symbol in raw:
            currency = code
            raw = raw.replace(symbol, " ")
    code_match = _CODE.search(raw)
    if code_match:
        currency = code_match.group(1).upper()
        raw = raw[: code_match.start()] + raw[code_match.end() :]
    number = re.sub(r"[\s\u00a0']", "", raw)
    if not re.fullmatch(r"[+-]?[\d.,]*\d[\d.,]*", number):
        raise PriceError(f"{text!r} is not a price (write it like 19.99 or '19.99 USD')")
    if "," in number and "." in number:
        if number.rfind(",") > number.rfind("."):
            number = number.replace(".", "").replace(",", ".")
        else:
            number = number.replace(",", "")
    elif "," in number:
        head, _, tail = number.rpartition(",")
        # "1,234" and "1,234,567" are thousands; "49,00" and "12,5" are decimal commas
        number = number.replace(",", "") if len(tail) == 3 and head else head.replace(",", "") + "." + tail
    elif number.count(".") > 1:
        number = number.replace(".", "")
    try:
        amount = Decimal(number)
    except InvalidOperation as exc:
        raise PriceError(f"{text!r} is not a price") from exc
    if amount < 0:
        raise PriceError(f"{text!r} is negative")
    return Money(amount=amount, currency=currency)


def strip_html(text: str) -> str:
    """HTML to plain text: tags removed, entities decoded, whitespace tidied, paragraphs kept."""
    if not text:
        return ""
    if "<" in text:
        text = _BLOCK.sub("\n", text)
        text = _TAGS.sub(" ", text)
    text = html.unescape(text).replace("[object Object]", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


_CODE_LIKE = re.compile(r"[\w\-. ]+")


def unguard(text: str) -> str:
    """Drop the Excel text guard (a leading apostrophe) from code-like values such as barcodes."""
    if text.startswith("'") and len(text) > 1 and _CODE_LIKE.fullmatch(text, 1):
        return text[1:]
    return text


def split_list(text: str, separators: str = ",") -> list[str]:
    if not text:
        return []
    parts = re.split("[" + re.escape(separators) + "]", text)
    return [p.strip() for p in parts if p.strip()]


def truthy(text: str) -> bool | None:
    value = text.strip().casefold()
    if value in {"true", "yes", "1", "y", "ja", "oui", "active", "published"}:
        return True
    if value in {"false", "no", "0", "n", "nein", "non", "-1", "draft"}:
        return False
    return None


def slug(text: str, limit: int = 60) -> str:
    """Filesystem- and URL-safe key; SKUs never become paths without this."""
    value = re.sub(r"[^\w\-]+", "-", text.strip(), flags=re.UNICODE).strip("-_.")
    value = re.sub(r"-{2,}", "-", value)
    return (value or "item")[:limit]


def norm_header(text: str) -> str:
    return re.sub(r"[\W_]+", "", str(text).casefold())
