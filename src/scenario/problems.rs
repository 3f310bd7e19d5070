//! The list of problems found in a scenario, each at a byte offset of the text it came from,
//! collected so that every problem is reported, not only the first.

use std::ops::Range;

use super::error::Problem;

/// Collects problems, each at the byte offset in the text where it was found.
#[derive(Debug, Default)]
pub(super) struct Problems {
    list: Vec<(usize, String)>,
}

impl Problems {
    /// Records a problem located at byte range `span`.
    pub(super) fn at(&mut self, span: Range<usize>, message: String) {
        self.list.push((span.start, message));
    }

    /// Problems recorded so far.
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none has been recorded.
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Each problem with its byte offset, in the order found.
    pub(super) fn into_offsets(self) -> Vec<(usize, String)> {
        self.list
    }

    /// Each problem at its line and column in `text`, in file order (one pass over the text,
    /// however many problems).
    pub(super) fn located(self, text: &str) -> Vec<Problem> {
        let starts: Vec<usize> =
            std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
        let mut problems: Vec<Problem> = self
            .list
            .into_iter()
            .map(|(offset, message)| {
                let offset = offset.min(text.len());
                let line = starts.partition_point(|&start| start <= offset);
                let column =
                    text.get(starts[line - 1]..offset).map_or(0, |before| before.chars().count()) + 1;
                Problem { line, column, message }
            })
            .collect();
        problems.sort_by_key(|p| (p.line, p.column));
        problems
    }
}

/// 1-based line and column of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, column)
}
