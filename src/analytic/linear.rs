//! Dense linear solves, for the traffic equations of open networks.

use std::fmt;

/// A pivot below this fraction of the largest matrix entry counts as zero.
const PIVOT_TOLERANCE: f64 = 1e-12;

/// The linear system has no unique solution.
///
/// Raised when elimination meets a pivot below 1e-12 of the largest entry, or when the matrix is
/// not square or does not match the right-hand side. In the traffic equations of an open network
/// it means messages can circulate forever: a loop with no route out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SingularMatrix;

impl fmt::Display for SingularMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("singular matrix: the linear system has no unique solution")
    }
}

impl std::error::Error for SingularMatrix {}

/// Solves `matrix` · x = `rhs` by Gaussian elimination with partial pivoting.
///
/// `matrix` is a list of n rows of n finite entries and `rhs` has n entries. For the open-network
/// traffic equations lambda = gamma + Pᵀ lambda, pass I − Pᵀ and gamma.
///
/// # Errors
///
/// [`SingularMatrix`] if a pivot falls below 1e-12 times the largest absolute entry, or the shapes
/// do not form a square system.
///
/// # Formula
///
/// For each column, swap up the row with the largest remaining entry and eliminate below it,
/// leaving an upper-triangular U; then back-substitute:
///
/// ```text
/// x_i = (b_i − Σ_{j>i} U_ij x_j) / U_ii
/// ```
pub fn solve(mut matrix: Vec<Vec<f64>>, mut rhs: Vec<f64>) -> Result<Vec<f64>, SingularMatrix> {
    let n = rhs.len();
    if matrix.len() != n || matrix.iter().any(|row| row.len() != n) {
        return Err(SingularMatrix);
    }
    let scale = matrix.iter().flatten().fold(0.0, |largest: f64, entry| largest.max(entry.abs()));
    for column in 0..n {
        eliminate(&mut matrix, &mut rhs, column, PIVOT_TOLERANCE * scale)?;
    }
    Ok(back_substitute(&matrix, &rhs))
}

/// Moves the largest pivot of `column` into place and clears the entries below it.
fn eliminate(
    matrix: &mut [Vec<f64>],
    rhs: &mut [f64],
    column: usize,
    tolerance: f64,
) -> Result<(), SingularMatrix> {
    let best = pivot_row(matrix, column);
    let pivot = matrix[best][column].abs();
    if pivot.is_nan() || pivot <= tolerance {
        return Err(SingularMatrix);
    }
    matrix.swap(column, best);
    rhs.swap(column, best);
    let (done, below) = matrix.split_at_mut(column + 1);
    let (done_rhs, below_rhs) = rhs.split_at_mut(column + 1);
    let pivot = &done[column];
    for (row, value) in below.iter_mut().zip(below_rhs) {
        let factor = row[column] / pivot[column];
        for (entry, &above) in row[column..].iter_mut().zip(&pivot[column..]) {
            *entry -= factor * above;
        }
        *value -= factor * done_rhs[column];
    }
    Ok(())
}

/// The row at or below `column` whose entry in `column` is largest in absolute value.
fn pivot_row(matrix: &[Vec<f64>], column: usize) -> usize {
    (column..matrix.len()).fold(column, |best, row| {
        if matrix[row][column].abs() > matrix[best][column].abs() { row } else { best }
    })
}

/// Solves the upper-triangular system left by elimination.
fn back_substitute(upper: &[Vec<f64>], rhs: &[f64]) -> Vec<f64> {
    let mut solution = vec![0.0; rhs.len()];
    for row in (0..rhs.len()).rev() {
        let known: f64 = upper[row][row + 1..].iter().zip(&solution[row + 1..]).map(|(a, x)| a * x).sum();
        solution[row] = (rhs[row] - known) / upper[row][row];
    }
    solution
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() <= 1e-12 * e.abs().max(1.0), "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn solves_a_system_that_needs_pivoting() {
        // x = (1, 2, 3) by construction: row by row, 0 + 4 + 3 = 7, 1 + 2 + 3 = 6, 2 + 2 + 0 = 4.
        // The zero in the top-left corner forces a row swap.
        let matrix = vec![vec![0.0, 2.0, 1.0], vec![1.0, 1.0, 1.0], vec![2.0, 1.0, 0.0]];
        let solution = solve(matrix, vec![7.0, 6.0, 4.0]).expect("regular");
        assert_close(&solution, &[1.0, 2.0, 3.0]);
    }

    #[test]
    fn solves_open_network_traffic_equations() {
        // Node 0 gets gamma = 1/s from outside and sends everything to node 1; node 1 sends half
        // back to node 0 and half out. lambda_0 = 1 + lambda_1 / 2 and lambda_1 = lambda_0, so
        // lambda = (2, 2). The system is (I − Pᵀ) lambda = gamma.
        let matrix = vec![vec![1.0, -0.5], vec![-1.0, 1.0]];
        let solution = solve(matrix, vec![1.0, 0.0]).expect("has an exit");
        assert_close(&solution, &[2.0, 2.0]);
    }

    #[test]
    fn loop_without_exit_is_singular() {
        // Node 0 and node 1 send everything to each other: I − Pᵀ = [[1, −1], [−1, 1]].
        let matrix = vec![vec![1.0, -1.0], vec![-1.0, 1.0]];
        assert_eq!(solve(matrix, vec![1.0, 0.0]), Err(SingularMatrix));
        assert_eq!(solve(vec![vec![0.0]], vec![1.0]), Err(SingularMatrix));
    }

    #[test]
    fn singularity_is_judged_relative_to_scale() {
        // A tiny but well-conditioned matrix is fine: 1e-20 x = 3e-20 gives x = 3.
        assert_close(&solve(vec![vec![1e-20]], vec![3e-20]).expect("regular"), &[3.0]);
        // Rows equal up to 1e-15 of the scale are singular in all but rounding.
        let matrix = vec![vec![1.0, 1.0], vec![1.0, 1.0 + 1e-15]];
        assert_eq!(solve(matrix, vec![1.0, 1.0]), Err(SingularMatrix));
    }

    #[test]
    fn mismatched_shapes_are_rejected() {
        assert_eq!(solve(vec![vec![1.0, 2.0]], vec![1.0]), Err(SingularMatrix));
        assert_eq!(solve(vec![vec![1.0]], vec![1.0, 2.0]), Err(SingularMatrix));
        assert_eq!(solve(Vec::new(), Vec::new()), Ok(Vec::new()));
    }

    #[test]
    fn error_message_is_lowercase() {
        let message = SingularMatrix.to_string();
        assert!(message.starts_with("singular matrix"));
        assert_eq!(message, message.to_lowercase());
    }
}
