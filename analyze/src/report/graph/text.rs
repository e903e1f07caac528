//! How wide a label is drawn, and how a long name is shortened to fit a box.
//!
//! The SVG is laid out with no font at hand, so widths are estimated: labels are set in a
//! monospace font, where every character takes the same advance (0.6 em in the common ones:
//! DejaVu Sans Mono, Menlo, Consolas, Courier), two for the wide characters of Chinese,
//! Japanese and Korean, none for combining marks.

use unicode_width::UnicodeWidthStr;

use crate::report::escape;

/// Font size of service names, px.
pub const NAME_PX: f64 = 13.0;
/// Font size of edge figures and the legend, px.
pub const FIGURES_PX: f64 = 11.0;
/// The advance of one column, in em.
const COLUMN_EM: f64 = 0.6;
/// Longest name shown in full, in columns; longer ones are cut in the middle.
pub const MAX_NAME_COLUMNS: usize = 48;

/// The width `text` takes at `px`.
pub fn width(text: &str, px: f64) -> f64 {
    text.width() as f64 * COLUMN_EM * px
}

/// How a name is shown in a box: control characters made visible (a label has one line),
/// and at most [`MAX_NAME_COLUMNS`] columns, the middle cut out for `…` when longer, so that
/// both a host's start and its port stay in sight. The full name goes in a tooltip.
pub fn shown(name: &str) -> String {
    let visible = escape::terminal(name);
    if visible.width() <= MAX_NAME_COLUMNS {
        return visible.into_owned();
    }
    let keep = MAX_NAME_COLUMNS - 1;
    let head = take_columns(visible.chars(), keep - keep / 2);
    let mut tail: Vec<char> = take_columns(visible.chars().rev(), keep / 2)
        .chars()
        .collect();
    tail.reverse();
    let mut out = head;
    out.push('…');
    out.extend(tail);
    out
}

/// As many characters of `chars` as fit in `columns`.
fn take_columns(chars: impl Iterator<Item = char>, columns: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in chars {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > columns {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_columns() {
        assert_eq!(width("abcd", 10.0), 24.0);
        assert_eq!(width("服务", 10.0), 24.0);
        assert_eq!(width("", 10.0), 0.0);
    }

    #[test]
    fn short_names_are_shown_whole_and_long_ones_cut_in_the_middle() {
        assert_eq!(shown("front"), "front");
        assert_eq!(shown("a\nb"), "a\\nb");
        let long = format!("{}:5432", "x".repeat(100));
        let cut = shown(&long);
        assert_eq!(cut.width(), MAX_NAME_COLUMNS);
        assert!(cut.starts_with("xxx") && cut.ends_with(":5432") && cut.contains('…'));
        let wide = "服".repeat(40);
        assert!(shown(&wide).width() <= MAX_NAME_COLUMNS);
    }
}
