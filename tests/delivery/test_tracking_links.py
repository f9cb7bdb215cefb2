"""Link rewriting (delivery.tracking.links): odd markup, text parts, what is left alone."""

from __future__ import annotations

from delivery.tracking.links import html_links_rewrite, html_pixel_append, text_links_rewrite


class Numbered:
    """A rewrite that numbers the targets it is given: https://t.example/1, /2..."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    def __call__(self, target: str) -> str:
        self.targets.append(target)
        return f"https://t.example/{len(self.targets)}?a=1&b=2"


def test_uppercase_tags_and_single_quotes_are_rewritten_and_nothing_else_changes() -> None:
    # given a link written in capitals with single quotes, and one with bare quotes
    html = "<P>Go <A HREF='https://shop.example/a' CLASS='x'>now</A> or <a href=http://b.example/>b</a></P>"
    rewrite = Numbered()

    # when its links are rewritten
    sent = html_links_rewrite(html, rewrite)

    # then only the href values changed, double-quoted and escaped
    assert sent == (
        "<P>Go <A HREF=\"https://t.example/1?a=1&amp;b=2\" CLASS='x'>now</A> or "
        '<a href="https://t.example/2?a=1&amp;b=2">b</a></P>'
    )
    assert rewrite.targets == ["https://shop.example/a", "http://b.example/"]


def test_entities_are_decoded_for_the_target_and_query_and_fragment_kept() -> None:
    # given a link whose query holds an &amp; entity and a numeric one, and a fragment
    html = '<a href="https://shop.example/p?id=7&amp;utm=x&#38;y=%20z#reviews">p</a>'
    rewrite = Numbered()

    # when rewritten
    html_links_rewrite(html, rewrite)

    # then the stored target is the URL a browser would have followed
    assert rewrite.targets == ["https://shop.example/p?id=7&utm=x&y=%20z#reviews"]


def test_links_inside_comments_are_left_alone() -> None:
    # given a link in a comment, and one in an Outlook conditional comment
    html = (
        '<!-- <a href="https://old.example/">old</a> -->'
        '<!--[if mso]><a href="https://mso.example/">o</a><![endif]-->'
        '<a href="https://live.example/">live</a>'
    )
    rewrite = Numbered()

    # when rewritten
    sent = html_links_rewrite(html, rewrite)

    # then only the live link changed
    assert rewrite.targets == ["https://live.example/"]
    assert sent == (
        '<!-- <a href="https://old.example/">old</a> -->'
        '<!--[if mso]><a href="https://mso.example/">o</a><![endif]-->'
        '<a href="https://t.example/1?a=1&amp;b=2">live</a>'
    )


def test_mailto_tel_anchors_relative_and_other_tags_are_untouched() -> None:
    # given links that are not http(s), and http URLs outside <a>/<area> hrefs
    html = (
        '<a href="mailto:help@shop.example?subject=Hi">m</a><a href="tel:+14165550100">t</a>'
        '<a href="#top">top</a><a href="/relative">r</a><a name="x">no href</a>'
        '<img src="https://img.example/i.png"><link href="https://css.example/s.css">'
        "<script>var u = \"<a href='https://js.example/'>\";</script>"
    )
    rewrite = Numbered()

    # when rewritten
    sent = html_links_rewrite(html, rewrite)

    # then nothing changed and no target was asked for
    assert sent == html
    assert rewrite.targets == []


def test_area_tags_and_self_closing_tags_are_rewritten() -> None:
    html = '<map><AREA shape="rect" HREF="https://area.example/x"/></map>'
    rewrite = Numbered()

    sent = html_links_rewrite(html, rewrite)

    assert sent == '<map><AREA shape="rect" HREF="https://t.example/1?a=1&amp;b=2"/></map>'


def test_the_no_track_marker_keeps_the_link_and_is_removed() -> None:
    # given a marked link, in any case and with or without a value
    html = (
        '<a data-clarion-notrack href="https://keep.example/1">a</a>'
        '<A HREF="https://keep.example/2" DATA-CLARION-NOTRACK="yes">b</A>'
        '<a href="https://track.example/">c</a>'
    )
    rewrite = Numbered()

    # when rewritten
    sent = html_links_rewrite(html, rewrite)

    # then the marked links kept their target and lost the marker
    assert sent == (
        '<a href="https://keep.example/1">a</a>'
        '<A HREF="https://keep.example/2">b</A>'
        '<a href="https://t.example/1?a=1&amp;b=2">c</a>'
    )
    assert rewrite.targets == ["https://track.example/"]


def test_whitespace_and_line_breaks_around_a_target_are_what_browsers_ignore() -> None:
    html = '<a\nclass="c"\n  href = " https://shop.example/\nx " >s</a>\n<a href="https://two.example/">2</a>'
    rewrite = Numbered()

    sent = html_links_rewrite(html, rewrite)

    assert rewrite.targets == ["https://shop.example/x", "https://two.example/"]
    assert sent == (
        '<a\nclass="c"\n  href = "https://t.example/1?a=1&amp;b=2" >s</a>\n'
        '<a href="https://t.example/2?a=1&amp;b=2">2</a>'
    )


def test_a_rewrite_that_declines_keeps_the_link_byte_for_byte() -> None:
    html = "<A HREF='https://shop.example/?a=1&amp;b=2'>x</A>"

    assert html_links_rewrite(html, lambda target: None) == html


def test_text_urls_are_rewritten_with_query_and_fragment_and_sentence_punctuation_kept() -> None:
    # given prose with URLs ending sentences, in brackets, and a mailto
    text = (
        "See https://shop.example/p?id=7&utm=x#reviews. Or (https://shop.example/wiki/A_(b)), "
        "write to mailto:help@shop.example or call tel:+14165550100!\nhttp://plain.example"
    )
    rewrite = Numbered()

    # when rewritten
    sent = text_links_rewrite(text, rewrite)

    # then each URL was replaced, the punctuation around it kept
    assert rewrite.targets == [
        "https://shop.example/p?id=7&utm=x#reviews",
        "https://shop.example/wiki/A_(b)",
        "http://plain.example",
    ]
    assert sent == (
        "See https://t.example/1?a=1&b=2. Or (https://t.example/2?a=1&b=2), "
        "write to mailto:help@shop.example or call tel:+14165550100!\nhttps://t.example/3?a=1&b=2"
    )


def test_the_pixel_goes_before_the_closing_body_tag_or_at_the_end() -> None:
    pixel = (
        '<img src="https://t.example/o?a=1&amp;b=2" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
    )

    with_body = html_pixel_append(
        "<html><BODY><p>x</p></BODY></html>", "https://t.example/o?a=1&b=2"
    )
    fragment = html_pixel_append("<p>x</p>", "https://t.example/o?a=1&b=2")

    assert with_body == f"<html><BODY><p>x</p>{pixel}</BODY></html>"
    assert fragment == f"<p>x</p>{pixel}"
