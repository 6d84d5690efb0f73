//! Display text that people read beside a name: a user's, a publisher's or a module's display
//! name. One line of printable text, without the invisible characters that make one name look
//! like another or reorder what is shown around it.
//!
//! Refused, beside control characters (line breaks included):
//! - bidirectional formatting: embeddings and overrides (U+202A to U+202E), isolates (U+2066 to
//!   U+2069) and the marks U+200E, U+200F, U+061C, with which `evil\u{202E}txt.exe` shows as
//!   `evilexe.txt` (the "Trojan Source" trick);
//! - zero-width and invisible characters (U+200B to U+200D, U+2060 to U+2064, U+FEFF, U+180E,
//!   U+00AD, U+034F, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, and the tag characters
//!   U+E0000 to U+E007F), with which two names that look the same are different strings;
//! - the line and paragraph separators U+2028 and U+2029.

/// Why a display text was refused, for the caller to put into its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayTextError {
    /// Empty, or longer than the limit, in characters.
    Length,
    /// A line break, tab or other control character.
    Control,
    /// A bidirectional override, embedding, isolate or mark.
    Bidi,
    /// A zero-width or otherwise invisible character.
    Invisible,
}

impl DisplayTextError {
    pub fn message(self, max: usize) -> String {
        match self {
            Self::Length => format!("must be 1 to {max} characters"),
            Self::Control => "must be one line without control characters".into(),
            Self::Bidi => "must not hold bidirectional override or isolate characters".into(),
            Self::Invisible => "must not hold zero-width or invisible characters".into(),
        }
    }
}

pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{180E}'
            | '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// The trimmed display text, or why it is refused: 1 to `max` characters on one line, with no
/// control, bidirectional or invisible characters.
pub fn display_text(raw: &str, max: usize) -> Result<String, DisplayTextError> {
    let text = raw.trim();
    let len = text.chars().count();
    if len == 0 || len > max {
        return Err(DisplayTextError::Length);
    }
    for c in text.chars() {
        // U+2028 and U+2029 break lines without being control characters.
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            return Err(DisplayTextError::Control);
        }
        if is_bidi_control(c) {
            return Err(DisplayTextError::Bidi);
        }
        if is_invisible(c) {
            return Err(DisplayTextError::Invisible);
        }
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_in_any_script_pass() {
        for ok in [
            "Economy+",
            "  Ada's tools ",
            "Économie",
            "市场",
            "اقتصاد",
            "Smile 😀",
        ] {
            assert_eq!(display_text(ok, 100).as_deref(), Ok(ok.trim()), "{ok}");
        }
    }

    #[test]
    fn invisible_reordering_and_multi_line_names_are_refused() {
        for (bad, why) in [
            ("", DisplayTextError::Length),
            ("   ", DisplayTextError::Length),
            ("two\nlines", DisplayTextError::Control),
            ("carriage\rreturn", DisplayTextError::Control),
            ("tab\there", DisplayTextError::Control),
            ("evil\u{202E}txt.exe", DisplayTextError::Bidi),
            ("left\u{2066}isolate", DisplayTextError::Bidi),
            ("mark\u{200F}", DisplayTextError::Bidi),
            ("zero\u{200B}width", DisplayTextError::Invisible),
            ("join\u{200D}er", DisplayTextError::Invisible),
            ("\u{FEFF}bom", DisplayTextError::Invisible),
            ("soft\u{00AD}hyphen", DisplayTextError::Invisible),
            ("hangul\u{3164}filler", DisplayTextError::Invisible),
            ("tag\u{E0041}", DisplayTextError::Invisible),
            ("line\u{2028}separator", DisplayTextError::Control),
            ("para\u{2029}graph", DisplayTextError::Control),
        ] {
            assert_eq!(display_text(bad, 100), Err(why), "{bad:?}");
        }
        assert_eq!(
            display_text(&"x".repeat(101), 100),
            Err(DisplayTextError::Length)
        );
        assert!(display_text(&"é".repeat(100), 100).is_ok());
    }
}
