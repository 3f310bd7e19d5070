//! Sparse matrices of transfers between vertices, and the solve of x = b + M x by blocks: the
//! traffic equations of a network of thousands of nodes in time and memory about linear in its
//! routes.
//!
//! The vertices are split into strongly connected components of M's graph and solved one
//! component at a time, each after the components it depends on: a vertex off every loop by
//! one division, a small loop by dense elimination ([`super::linear::solve`]) and a large one by
//! restarted GMRES preconditioned by a Gauss-Seidel sweep.

use super::gmres::{Block, gmres};
use super::linear::{SingularMatrix, solve};
use super::scc::components;

/// A vertex off every other loop whose own loop keeps all but this fraction of what it gets
/// (to rounding, all of it) has no exit.
const CLOSED_SELF_LOOP: f64 = 4.0 * f64::EPSILON;

/// Loops with at most this many vertices are solved by dense elimination (a few milliseconds);
/// larger ones iteratively.
const DENSE_LIMIT: usize = 200;

/// A square sparse matrix stored by rows, each row's entries sorted by column, without zeros.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseMatrix {
    /// Row i: (column, value) pairs.
    rows: Vec<Vec<(usize, f64)>>,
}

impl SparseMatrix {
    /// The matrix whose row i holds the (column, value) pairs of `rows[i]`, in any order:
    /// repeated columns are added up, and zeros left out.
    #[must_use]
    pub fn from_rows(mut rows: Vec<Vec<(usize, f64)>>) -> Self {
        for row in &mut rows {
            row.sort_by_key(|&(column, _)| column);
            let mut merged: Vec<(usize, f64)> = Vec::with_capacity(row.len());
            for &(column, value) in row.iter() {
                match merged.last_mut() {
                    Some(last) if last.0 == column => last.1 += value,
                    _ => merged.push((column, value)),
                }
            }
            merged.retain(|&(_, value)| value != 0.0);
            *row = merged;
        }
        Self { rows }
    }

    /// The number of rows (and columns).
    #[must_use]
    pub fn dimension(&self) -> usize {
        self.rows.len()
    }

    /// The non-zero entries of row `i`, by column.
    #[must_use]
    pub fn row(&self, i: usize) -> &[(usize, f64)] {
        &self.rows[i]
    }

    /// The entry at row `i`, column `j` (0 where none is stored).
    #[must_use]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let row = &self.rows[i];
        row.binary_search_by_key(&j, |&(column, _)| column).map_or(0.0, |at| row[at].1)
    }

    /// The transposed matrix.
    #[must_use]
    pub fn transpose(&self) -> Self {
        let mut rows = vec![Vec::new(); self.rows.len()];
        for (i, row) in self.rows.iter().enumerate() {
            for &(j, value) in row {
                rows[j].push((i, value));
            }
        }
        Self { rows }
    }

    /// The matrix with row i multiplied by `factor(i)`.
    #[must_use]
    pub fn scale_rows(&self, factor: impl Fn(usize) -> f64) -> Self {
        Self::from_rows(
            self.rows
                .iter()
                .enumerate()
                .map(|(i, row)| row.iter().map(|&(j, value)| (j, factor(i) * value)).collect())
                .collect(),
        )
    }
}

/// Solves x = b + M x, that is (I − M) x = b, for sparse M and `rhs` = b.
///
/// # Errors
///
/// [`SingularMatrix`] when `rhs` does not match M, or for a loop without exit: a vertex whose
/// own loop keeps all it gets to rounding, a small loop whose elimination meets a pivot below
/// 1e-12 of its largest entry, a large loop whose iterative solve does not reach a residual of
/// 1e-10 of the right-hand side's.
///
/// # Formula
///
/// With the components C₁, C₂, … of M's graph in an order where every component comes after
/// those it depends on: x_C = (I − M_CC)⁻¹ (b_C + Σ_{j ∉ C} M_Cj x_j).
pub fn solve_sparse(matrix: &SparseMatrix, rhs: &[f64]) -> Result<Vec<f64>, SingularMatrix> {
    let n = matrix.dimension();
    if rhs.len() != n {
        return Err(SingularMatrix);
    }
    let mut solution = vec![0.0; n];
    // Where each vertex sits in the component being solved (usize::MAX elsewhere).
    let mut position = vec![usize::MAX; n];
    for component in components(n, |i| matrix.row(i).iter().map(|&(j, _)| j)) {
        for (at, &i) in component.iter().enumerate() {
            position[i] = at;
        }
        let block = Block { matrix, members: &component, position: &position };
        let known: Vec<f64> = component
            .iter()
            .map(|&i| {
                let outside: f64 = matrix
                    .row(i)
                    .iter()
                    .filter(|&&(j, _)| position[j] == usize::MAX)
                    .map(|&(j, m)| m * solution[j])
                    .sum();
                rhs[i] + outside
            })
            .collect();
        let values = solve_block(&block, known)?;
        for (&i, value) in component.iter().zip(values) {
            solution[i] = value;
            position[i] = usize::MAX;
        }
    }
    Ok(solution)
}

/// Solves (I − M_CC) x = `rhs` on one component.
fn solve_block(block: &Block<'_>, rhs: Vec<f64>) -> Result<Vec<f64>, SingularMatrix> {
    match block.members {
        [only] => {
            let diagonal = 1.0 - block.matrix.get(*only, *only);
            if diagonal.is_nan() || diagonal.abs() <= CLOSED_SELF_LOOP {
                return Err(SingularMatrix);
            }
            Ok(vec![rhs[0] / diagonal])
        }
        members if members.len() <= DENSE_LIMIT => {
            let mut dense = vec![vec![0.0; members.len()]; members.len()];
            for (at, row) in dense.iter_mut().enumerate() {
                row[at] = 1.0;
                for (j, m) in block.inside(members[at]) {
                    row[j] -= m;
                }
            }
            solve(dense, rhs)
        }
        _ => gmres(block, &rhs).ok_or(SingularMatrix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(entries: &[(usize, usize, f64)], n: usize) -> SparseMatrix {
        let mut rows = vec![Vec::new(); n];
        for &(i, j, value) in entries {
            rows[i].push((j, value));
        }
        SparseMatrix::from_rows(rows)
    }

    fn assert_close(actual: &[f64], expected: &[f64], tolerance: f64) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() <= tolerance * e.abs().max(1.0), "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn merges_repeated_entries_and_drops_zeros() {
        let m = SparseMatrix::from_rows(vec![vec![(1, 0.25), (0, 0.0), (1, 0.25)], vec![]]);
        assert_eq!(m.row(0), &[(1, 0.5)]);
        assert_eq!(m.get(0, 1), 0.5);
        assert_eq!(m.get(1, 0), 0.0);
        assert_eq!(m.transpose().row(1), &[(0, 0.5)]);
    }

    #[test]
    fn solves_a_feedback_loop_behind_a_chain() {
        // x0 = 1; x1 = x0 + 0.5 x2; x2 = x1 (x1, x2 a loop): x1 = 1 + 0.5 x1, so x1 = x2 = 2.
        // x3 = 0.5 x2 + 0.5 x3 (a self-loop): x3 = x2 = 2.
        let m = matrix(&[(1, 0, 1.0), (1, 2, 0.5), (2, 1, 1.0), (3, 2, 0.5), (3, 3, 0.5)], 4);
        let x = solve_sparse(&m, &[1.0, 0.0, 0.0, 0.0]).unwrap();
        assert_close(&x, &[1.0, 2.0, 2.0, 2.0], 1e-15);
    }

    #[test]
    fn a_loop_without_exit_is_singular() {
        assert_eq!(solve_sparse(&matrix(&[(0, 1, 1.0), (1, 0, 1.0)], 2), &[1.0, 0.0]), Err(SingularMatrix));
        assert_eq!(solve_sparse(&matrix(&[(0, 0, 1.0)], 1), &[1.0]), Err(SingularMatrix));
        assert_eq!(solve_sparse(&matrix(&[], 2), &[1.0]), Err(SingularMatrix));
    }

    #[test]
    fn a_large_ring_is_solved_iteratively() {
        // A ring of n vertices, each passing on 0.999 of what it gets, with 1 put in at vertex 0:
        // around the ring x_k = 0.999^k x_0 and x_0 = 1 + 0.999^n x_0.
        let n = 5 * DENSE_LIMIT;
        let entries: Vec<_> = (0..n).map(|k| ((k + 1) % n, k, 0.999)).collect();
        let mut rhs = vec![0.0; n];
        rhs[0] = 1.0;
        let x = solve_sparse(&matrix(&entries, n), &rhs).unwrap();
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let expected: Vec<f64> =
            (0..n).map(|k| 0.999_f64.powi(k as i32) / (1.0 - 0.999_f64.powi(n as i32))).collect();
        assert_close(&x, &expected, 1e-11);
    }

    #[test]
    fn a_large_random_loop_agrees_with_dense_elimination() {
        // A pseudo-random graph of 3 routes per vertex with weight 0.3 each (exit 0.1).
        let n = 3 * DENSE_LIMIT;
        let mut state = 12_345_u64;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap() % n
        };
        let entries: Vec<_> =
            (0..n).flat_map(|i| [0; 3].map(|_| (i, 0, 0.3))).map(|(i, _, w)| (i, next(), w)).collect();
        let m = matrix(&entries, n);
        let rhs: Vec<f64> = (0..n).map(|i| if i % 7 == 0 { 1.0 } else { 0.0 }).collect();
        let mut dense = vec![vec![0.0; n]; n];
        for (i, row) in dense.iter_mut().enumerate() {
            row[i] += 1.0;
            for &(j, value) in m.row(i) {
                row[j] -= value;
            }
        }
        assert_close(&solve_sparse(&m, &rhs).unwrap(), &solve(dense, rhs).unwrap(), 1e-11);
    }
}
