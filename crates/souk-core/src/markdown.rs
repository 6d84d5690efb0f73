//! Markdown to HTML for READMEs, changelogs and descriptions that publishers write: HTML that is
//! safe to put in our pages as it is.
//!
//! CommonMark plus GitHub's tables, strikethrough and task lists, rendered by pulldown-cmark,
//! whose writer escapes all text and emits a fixed set of tags. Rather than clean up HTML
//! afterwards (which needs a sanitizer and its allow-lists), we let none of the author's HTML
//! through and check the only attributes that carry their input as URLs:
//!
//! - raw HTML, block or inline, is shown as text (escaped), never interpreted;
//! - link and image destinations are kept only when they are relative or use `http`, `https` or
//!   `mailto`; anything else (`javascript:`, `data:`, `vbscript:`, unknown schemes) becomes `#`.
//!   The scheme is judged on the destination as a browser would read it: pulldown-cmark has
//!   already decoded entities and backslash escapes, and we drop all whitespace and control
//!   characters first, since browsers ignore tabs and newlines inside a URL (`java&#x09;script:`
//!   is `javascript:` to them);
//! - links carry `rel="nofollow noopener ugc"`: they are user content, so they pass no
//!   reputation and get no handle on our window.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// Schemes a link or image may use. Compared in lower case.
const ALLOWED_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Renders untrusted Markdown to HTML that is safe to embed.
pub fn render_markdown(src: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(src, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // A raw HTML block becomes a paragraph of text: without it the escaped text would run
        // into its neighbours.
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        // Links are written here rather than by pulldown-cmark to add `rel`. As `Html` events
        // they are also dropped from an image's alt text, where the writer ignores HTML.
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            ..
        }) => Event::Html(link_open(link_type, &dest_url, &title).into()),
        Event::End(TagEnd::Link) => Event::Html("</a>".into()),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::from(safe_url(&dest_url).to_owned()),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(src.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

fn link_open(link_type: LinkType, dest: &str, title: &str) -> String {
    // An email autolink (`<me@example.com>`) carries the bare address.
    let href = if link_type == LinkType::Email {
        format!("mailto:{dest}")
    } else {
        safe_url(dest).to_owned()
    };
    let mut tag = String::from("<a href=\"");
    push_href(&mut tag, &href);
    tag.push('"');
    if !title.is_empty() {
        tag.push_str(" title=\"");
        push_escaped(&mut tag, title);
        tag.push('"');
    }
    tag.push_str(" rel=\"nofollow noopener ugc\">");
    tag
}

/// `dest` if it is relative or uses an allowed scheme, else `#`.
fn safe_url(dest: &str) -> &str {
    let squeezed: String = dest
        .chars()
        .filter(|c| !(c.is_whitespace() || c.is_control()))
        .collect();
    // A scheme is whatever comes before a `:` that precedes any `/`, `?` or `#`; otherwise the
    // URL is relative (`docs/a.md`, `#top`, `//host/x`, `a/b:c`).
    match squeezed.find([':', '/', '?', '#']) {
        Some(i) if squeezed.as_bytes()[i] == b':' => {
            let scheme = squeezed[..i].to_ascii_lowercase();
            if ALLOWED_SCHEMES.contains(&scheme.as_str()) {
                dest
            } else {
                "#"
            }
        }
        _ => dest,
    }
}

/// Writes a URL into a double-quoted attribute: percent-encodes what does not belong in a URL
/// (spaces, controls, quotes, non-ASCII) and escapes `&` and `'` for HTML.
fn push_href(out: &mut String, url: &str) {
    for c in url.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_ascii_alphanumeric() || "-_.~!*();:@=+$,/?#[]%".contains(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tag pulldown-cmark may write for the options we enable.
    const TAGS: &[&str] = &[
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "input",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    ];
    const ATTRIBUTES: &[&str] = &[
        "alt", "checked", "class", "disabled", "href", "rel", "src", "start", "style", "title",
        "type",
    ];

    /// Reads the rendered HTML as a browser would, tag by tag: only known tags, known
    /// attributes with quoted values, and no URL attribute with a script scheme. Text between
    /// tags may say anything: it is text.
    fn assert_inert(html: &str) {
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            rest = &rest[open + 1..];
            let end = rest
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag in {html}"));
            let tag = rest[..end].trim_start_matches('/').trim_end_matches('/');
            rest = &rest[end + 1..];
            let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
            assert!(TAGS.contains(&name), "<{name}> in {html}");
            loop {
                attributes = attributes.trim_start();
                if attributes.is_empty() {
                    break;
                }
                let eq = attributes
                    .find("=\"")
                    .unwrap_or_else(|| panic!("unquoted attribute `{attributes}` in {html}"));
                let attribute = &attributes[..eq];
                assert!(ATTRIBUTES.contains(&attribute), "{attribute} in {html}");
                let value_and_rest = &attributes[eq + 2..];
                let close = value_and_rest.find('"').unwrap();
                let value: String = value_and_rest[..close]
                    .to_ascii_lowercase()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if attribute == "href" || attribute == "src" {
                    for scheme in ["javascript:", "vbscript:", "data:"] {
                        assert!(!value.starts_with(scheme), "{attribute}={value} in {html}");
                    }
                }
                attributes = &value_and_rest[close + 1..];
            }
        }
    }

    fn href_of(markdown: &str) -> String {
        let html = render_markdown(markdown);
        let start = html
            .find("href=\"")
            .or_else(|| html.find("src=\""))
            .unwrap_or_else(|| panic!("no link in {html}"));
        let rest = &html[start..];
        let value = &rest[rest.find('"').unwrap() + 1..];
        value[..value.find('"').unwrap()].to_owned()
    }

    #[test]
    fn renders_commonmark_and_github_extensions() {
        let html = render_markdown(
            "# Title\n\n*em* **strong** ~~gone~~ `code`\n\n\
             | a | b |\n|---|:-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n```lua\nprint(1)\n```\n",
        );
        for part in [
            "<h1>Title</h1>",
            "<em>em</em>",
            "<strong>strong</strong>",
            "<del>gone</del>",
            "<code>code</code>",
            "<table>",
            "<th style=\"text-align: center\">b</th>",
            "<td>1</td>",
            "<input disabled=\"\" type=\"checkbox\" checked=\"\"/>",
            "<code class=\"language-lua\">print(1)",
        ] {
            assert!(html.contains(part), "`{part}` missing from {html}");
        }
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render_markdown("<script>alert(1)</script>\n");
        assert_eq!(html, "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>\n");
        let html = render_markdown("hi <img src=x onerror=alert(1)> there\n");
        assert_eq!(html, "<p>hi &lt;img src=x onerror=alert(1)&gt; there</p>\n");
        for payload in [
            "<div>\n<script>alert(1)</script>\n</div>\n",
            "<svg onload=alert(1)>\n",
            "<iframe src=\"javascript:alert(1)\"></iframe>\n",
            "<a href=\"javascript:alert(1)\">x</a>\n",
            "text <style>body{display:none}</style>\n",
            "<!-- <script>alert(1)</script> -->\n",
            "<details><summary>x</summary><script>alert(1)</script></details>\n",
        ] {
            let html = render_markdown(payload);
            assert!(html.contains("&lt;"), "{html}");
            assert_inert(&html);
        }
    }

    #[test]
    fn script_urls_are_refused_however_written() {
        for payload in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java&#x09;script:alert(1))",
            "[x](java&#10;script:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](javascript&colon;alert(1))",
            "[x](<javascript:alert(1)>)",
            "[x](<java script:alert(1)>)",
            "[x](vbscript:msgbox(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](DATA:text/html,x)",
            "[x](file:///etc/passwd)",
            "[x][ref]\n\n[ref]: javascript:alert(1)",
            "<javascript:alert(1)>",
            "![x](javascript:alert(1))",
            "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        ] {
            assert_eq!(href_of(payload), "#", "{payload}");
            assert_inert(&render_markdown(payload));
        }
    }

    #[test]
    fn safe_urls_are_kept() {
        for (markdown, href) in [
            (
                "[a](https://example.com/x?y=1&z=2)",
                "https://example.com/x?y=1&amp;z=2",
            ),
            ("[a](HTTP://Example.com)", "HTTP://Example.com"),
            ("[a](mailto:me@example.com)", "mailto:me@example.com"),
            ("[a](docs/guide.md#install)", "docs/guide.md#install"),
            ("[a](#top)", "#top"),
            ("[a](/abs/path)", "/abs/path"),
            ("[a](<my file.md>)", "my%20file.md"),
            ("[a](dir/a:b)", "dir/a:b"),
            ("<https://example.com/>", "https://example.com/"),
            ("<me@example.com>", "mailto:me@example.com"),
            ("![logo](img/logo.png)", "img/logo.png"),
            ("[a](https://example.com/é)", "https://example.com/%C3%A9"),
        ] {
            assert_eq!(href_of(markdown), href, "{markdown}");
        }
        let html = render_markdown("[a](https://example.com \"The \\\"site\\\" <b>\")");
        assert_eq!(
            html,
            "<p><a href=\"https://example.com\" title=\"The &quot;site&quot; &lt;b&gt;\" \
             rel=\"nofollow noopener ugc\">a</a></p>\n"
        );
    }

    #[test]
    fn attributes_cannot_be_broken_out_of() {
        for payload in [
            "[x](https://a/\"onmouseover=alert(1))",
            "[x](https://a \"t\\\" onmouseover=\\\"alert(1)\")",
            "![x\" onerror=\"alert(1)](img.png)",
            "```\"><script>alert(1)</script>\ncode\n```",
            "[x](https://a/'onmouseover=alert(1))",
        ] {
            assert_inert(&render_markdown(payload));
        }
    }

    #[test]
    fn links_inside_image_alt_text_stay_text() {
        let html = render_markdown("![see [docs](javascript:alert(1))](img.png)");
        assert_eq!(html, "<p><img src=\"img.png\" alt=\"see docs\" /></p>\n");
    }

    #[test]
    #[should_panic(expected = "<script>")]
    fn the_inertness_check_sees_a_script_tag() {
        assert_inert("<p>x</p><script>alert(1)</script>");
    }

    #[test]
    #[should_panic(expected = "onerror")]
    fn the_inertness_check_sees_an_event_handler() {
        assert_inert("<img src=\"a.png\" onerror=\"alert(1)\" />");
    }

    #[test]
    #[should_panic(expected = "href=javascript:")]
    fn the_inertness_check_sees_a_script_url() {
        assert_inert("<a href=\"JavaScript:alert(1)\">x</a>");
    }
}
