//! GMRES, restarted, for one large loop of the traffic equations: (I − M_CC) x = b on a strongly
//! connected component C, preconditioned on the right by a Gauss-Seidel sweep.
//!
//! The sweep solves the part of the loop whose edges point back in the component's order (most
//! of them: a ring is solved but for its closing edge), so GMRES has little left to do: two
//! iterations for a ring, a few dozen for a random graph of a few routes per vertex.

use super::sparse::SparseMatrix;

/// Krylov vectors kept before a restart.
const RESTART: usize = 40;

/// Iterations in all before giving up.
const MAX_ITERATIONS: usize = 2000;

/// Residual, relative to the right-hand side's norm, at which the iteration stops.
const TARGET: f64 = 1e-14;

/// Largest relative residual of a solution accepted once the iteration stops.
const ACCEPTED: f64 = 1e-10;

/// A restart that does not lower the residual below this fraction of its start has stalled.
const STALLED: f64 = 0.999;

/// One component of a sparse matrix: the rows and columns of `members`, in their order.
pub(super) struct Block<'a> {
    /// The whole matrix M.
    pub(super) matrix: &'a SparseMatrix,
    /// The component's vertices.
    pub(super) members: &'a [usize],
    /// Where each vertex sits in `members` (`usize::MAX` for vertices outside).
    pub(super) position: &'a [usize],
}

impl Block<'_> {
    /// The entries of row `i` inside the component, by their position in it.
    pub(super) fn inside(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.matrix.row(i).iter().filter_map(|&(j, m)| {
            let at = self.position[j];
            (at != usize::MAX).then_some((at, m))
        })
    }

    /// (I − M_CC) z.
    fn apply(&self, z: &[f64]) -> Vec<f64> {
        self.members
            .iter()
            .enumerate()
            .map(|(a, &i)| z[a] - self.inside(i).map(|(b, m)| m * z[b]).sum::<f64>())
            .collect()
    }

    /// The Gauss-Seidel sweep: solves (D − L) z = r, with D − L the diagonal and the entries of
    /// I − M_CC whose column comes before their row.
    fn sweep(&self, r: &[f64]) -> Vec<f64> {
        let mut z = vec![0.0; r.len()];
        for (a, &i) in self.members.iter().enumerate() {
            let (mut sum, mut diagonal) = (r[a], 1.0);
            for (b, m) in self.inside(i) {
                if b < a {
                    sum += m * z[b];
                } else if b == a {
                    diagonal -= m;
                }
            }
            z[a] = sum / if diagonal.abs() > 1e-12 { diagonal } else { 1.0 };
        }
        z
    }

    /// b − (I − M_CC) x.
    fn residual(&self, rhs: &[f64], x: &[f64]) -> Vec<f64> {
        rhs.iter().zip(self.apply(x)).map(|(b, ax)| b - ax).collect()
    }
}

/// Solves (I − M_CC) x = `rhs` on `block`; `None` when the residual stays above 1e-10 of the
/// right-hand side's (a loop without exit, or one too nearly closed to solve).
pub(super) fn gmres(block: &Block<'_>, rhs: &[f64]) -> Option<Vec<f64>> {
    let norm_b = norm(rhs);
    let mut x = vec![0.0; rhs.len()];
    if norm_b == 0.0 {
        return Some(x);
    }
    let mut iterations = 0;
    let mut last = f64::INFINITY;
    while iterations < MAX_ITERATIONS {
        let r = block.residual(rhs, &x);
        let beta = norm(&r);
        if !(beta > TARGET * norm_b && beta < STALLED * last) {
            break;
        }
        last = beta;
        let step = restart(block, &r, beta, TARGET * norm_b, &mut iterations);
        x.iter_mut().zip(step).for_each(|(x, s)| *x += s);
    }
    let accepted = norm(&block.residual(rhs, &x)) <= ACCEPTED * norm_b && x.iter().all(|x| x.is_finite());
    accepted.then_some(x)
}

/// One cycle of at most [`RESTART`] Arnoldi steps from residual `r` of norm `beta`; the
/// correction to add to the solution.
fn restart(block: &Block<'_>, r: &[f64], beta: f64, goal: f64, iterations: &mut usize) -> Vec<f64> {
    let mut basis = vec![r.iter().map(|x| x / beta).collect::<Vec<f64>>()];
    // Column j of the Hessenberg matrix, rotated to upper-triangular.
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut rotations: Vec<(f64, f64)> = Vec::new();
    let mut g = vec![beta];
    for j in 0..RESTART {
        *iterations += 1;
        let mut w = block.apply(&block.sweep(&basis[j]));
        let mut column = Vec::with_capacity(j + 2);
        for v in &basis {
            let h = dot(&w, v);
            w.iter_mut().zip(v).for_each(|(w, v)| *w -= h * v);
            column.push(h);
        }
        let next = norm(&w);
        column.push(next);
        for (i, &(c, s)) in rotations.iter().enumerate() {
            let (a, b) = (column[i], column[i + 1]);
            column[i] = c * a + s * b;
            column[i + 1] = c * b - s * a;
        }
        let (a, b) = (column[j], column[j + 1]);
        let radius = a.hypot(b);
        let (c, s) = if radius == 0.0 { (1.0, 0.0) } else { (a / radius, b / radius) };
        column[j] = radius;
        column[j + 1] = 0.0;
        rotations.push((c, s));
        g.push(-s * g[j]);
        g[j] *= c;
        columns.push(column);
        if g[j + 1].abs() <= goal || next == 0.0 || *iterations >= MAX_ITERATIONS {
            break;
        }
        basis.push(w.iter().map(|x| x / next).collect());
    }
    let m = columns.len();
    let mut y = vec![0.0; m];
    for i in (0..m).rev() {
        let known: f64 = (i + 1..m).map(|l| columns[l][i] * y[l]).sum();
        y[i] = (g[i] - known) / columns[i][i];
    }
    let mut combination = vec![0.0; r.len()];
    for (v, &weight) in basis.iter().zip(&y) {
        combination.iter_mut().zip(v).for_each(|(c, v)| *c += weight * v);
    }
    block.sweep(&combination)
}

/// The dot product of `a` and `b`.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// The Euclidean norm of `a`.
fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
