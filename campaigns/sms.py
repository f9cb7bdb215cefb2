"""SMS segment arithmetic (3GPP TS 23.038)."""

from __future__ import annotations

from campaigns import limits

# The GSM 03.38 basic character set, and the extension set whose characters
# take two septets (escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def sms_segments(text: str) -> int:
    """How many SMS parts ``text`` needs (0 for an empty text)."""
    if not text:
        return 0
    if sms_is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, part = limits.SMS_GSM7_SINGLE, limits.SMS_GSM7_PART
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP take two.
        units = len(text.encode("utf-16-le")) // 2
        single, part = limits.SMS_UCS2_SINGLE, limits.SMS_UCS2_PART
    if units <= single:
        return 1
    return -(-units // part)
