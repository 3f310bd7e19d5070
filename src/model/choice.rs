//! Weighted choices: a discrete distribution over a few values, drawn by inverting the running
//! sums of the probabilities.

use rand::Rng;

use super::distribution::unit_interval;
use super::ids::KeyId;

/// A discrete distribution over routing keys.
pub type KeyChoice = Choice<KeyId>;

/// A discrete distribution over a few values (routing keys, priorities, classes).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice<T> {
    keys: Vec<T>,
    probabilities: Vec<f64>,
    cumulative: Vec<f64>,
}

impl<T: Copy> Choice<T> {
    /// Values with their probabilities, which must be positive and sum to 1 (checked by the
    /// scenario layer).
    #[must_use]
    pub(crate) fn new(weighted: Vec<(T, f64)>) -> Self {
        let (keys, probabilities): (Vec<T>, Vec<f64>) = weighted.into_iter().unzip();
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = probabilities
            .iter()
            .map(|p| {
                total += p;
                total
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Self { keys, probabilities, cumulative }
    }

    /// Draws one value.
    #[inline]
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> T {
        if self.keys.len() == 1 {
            return self.keys[0];
        }
        self.keys[branch_at(&self.cumulative, unit_interval(rng))]
    }

    /// Each value with its probability.
    pub fn weighted(&self) -> impl Iterator<Item = (T, f64)> + '_ {
        self.keys.iter().copied().zip(self.probabilities.iter().copied())
    }
}

/// The branch whose cumulative interval holds the uniform draw `u` in [0, 1).
pub(super) fn branch_at(cumulative: &[f64], u: f64) -> usize {
    cumulative.iter().position(|&c| u < c).unwrap_or(cumulative.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilistic_routing_splits_the_unit_interval() {
        let cumulative = [0.3, 1.0];
        assert_eq!(branch_at(&cumulative, 0.0), 0);
        assert_eq!(branch_at(&cumulative, 0.299), 0);
        assert_eq!(branch_at(&cumulative, 0.3), 1);
        assert_eq!(branch_at(&cumulative, 0.999_999), 1);
    }
}
