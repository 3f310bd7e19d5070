//! The pieces every section of the page is built from: escaped text, tables, the inline style
//! sheet, and a command line quoted for a POSIX shell.

use std::fmt::Write as _;

/// `text` with the characters HTML gives a meaning (`& < > " '`) escaped.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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
    out
}

/// A table: a header row, then rows of cells already in HTML; a row's class marks it (e.g. the
/// bottleneck). The first columns hold text, aligned left; the others numbers, aligned right.
pub(super) struct HtmlTable {
    header: Vec<&'static str>,
    text_columns: usize,
    rows: Vec<(Option<&'static str>, Vec<String>)>,
}

impl HtmlTable {
    /// An empty table with these column headings, the first `text_columns` of them text.
    pub(super) fn new(header: &[&'static str], text_columns: usize) -> Self {
        Self { header: header.to_vec(), text_columns, rows: Vec::new() }
    }

    /// Adds a row of cells (HTML), with a class for the row when it stands out.
    pub(super) fn row(&mut self, class: Option<&'static str>, cells: Vec<String>) {
        self.rows.push((class, cells));
    }

    /// Whether no row was added.
    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as HTML.
    pub(super) fn render(&self, out: &mut String) {
        out.push_str("<table>\n<thead><tr>");
        for (column, heading) in self.header.iter().enumerate() {
            let _ = write!(out, "<th{}>{heading}</th>", self.align(column));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (class, cells) in &self.rows {
            match class {
                Some(class) => {
                    let _ = write!(out, "<tr class=\"{class}\">");
                }
                None => out.push_str("<tr>"),
            }
            for (column, cell) in cells.iter().enumerate() {
                let _ = write!(out, "<td{}>{cell}</td>", self.align(column));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }

    /// The class attribute of a text column's cells.
    fn align(&self, column: usize) -> &'static str {
        if column < self.text_columns { " class=\"text\"" } else { "" }
    }
}

/// A command line as a POSIX shell reads it back: each argument quoted when it holds anything
/// but letters, digits and `_ - . / = : , + @ %`.
#[must_use]
pub fn shell_command<I: IntoIterator<Item = String>>(arguments: I) -> String {
    arguments
        .into_iter()
        .map(|argument| {
            let plain = !argument.is_empty()
                && argument.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
            if plain { argument } else { format!("'{}'", argument.replace('\'', r"'\''")) }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page's style sheet: plain, readable on screen and on paper (no dark backgrounds, one
/// section per printed page).
pub(super) const STYLE: &str = r"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1a1a1a;
  background: #fff; max-width: 1200px; margin: 0 auto; padding: 1.5rem 2rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #0072b2; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .7rem; text-align: right; white-space: nowrap; }
th { background: #f2f5f8; font-weight: 600; }
th.text, td.text { text-align: left; white-space: normal; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(530px, 1fr)); gap: 0 1.5rem; }
.tables > div { overflow-x: auto; }
.tables table { font-size: .82rem; width: 100%; }
.tables th, .tables td { padding: .2rem .45rem; }
tr.bottleneck td { background: #fff1e6; font-weight: 600; }
tr.miss td { background: #fdecec; }
.verdict { font-size: 1.15rem; font-weight: 600; padding: .5rem .8rem; border-left: 6px solid; margin: .8rem 0; }
.verdict.ok { border-color: #009e73; background: #eaf7f2; }
.verdict.bad { border-color: #c81e1e; background: #fdecec; }
.verdict.open { border-color: #b07000; background: #fdf5e6; }
ul.warnings li { color: #8a1010; }
figure { margin: 1rem 0 2rem; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; border: 1px solid #ddd; }
figure.graph svg { width: auto; max-width: 100%; border: none; }
figcaption { color: #444; font-size: .9rem; margin-top: .3rem; }
pre { background: #f5f5f5; border: 1px solid #ddd; padding: .6rem .8rem; white-space: pre-wrap;
  word-break: break-all; font-size: .9rem; }
pre.table { white-space: pre; word-break: normal; overflow-x: auto; font-size: .8rem; line-height: 1.3; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
.note { color: #555; font-size: .88rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .tables { display: block; }
  pre.table { white-space: pre-wrap; font-size: 7pt; }
  table, .tables table { font-size: 8pt; }
  th, td, .tables th, .tables td { white-space: normal; padding: .15rem .35rem; }
  section { break-before: page; page-break-before: always; }
  section:first-of-type { break-before: auto; page-break-before: auto; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  table, tr { break-inside: avoid; page-break-inside: avoid; }
  th, tr.bottleneck td, tr.miss td, .verdict, pre { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_arguments_quoted() {
        assert_eq!(escape("a<b & 'c'"), "a&lt;b &amp; &#39;c&#39;");
        let arguments = ["kendall", "run", "my scenario.toml", "--seed", "7", "it's"].map(String::from);
        assert_eq!(shell_command(arguments), r"kendall run 'my scenario.toml' --seed 7 'it'\''s'");
    }
}
