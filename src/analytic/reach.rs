//! Which vertices of a network's flow graph reach which: every question the arrival shapes ask,
//! answered by searches and strongly connected components in time linear in the edges (no
//! vertex-by-vertex table, which would need the square of the vertices in memory).

use super::scc::components;

/// A directed graph over vertices, and its strongly connected components.
pub(super) struct Reach {
    /// Per vertex, the vertices one hop away, sorted, without repeats.
    successors: Vec<Vec<usize>>,
    /// Per vertex, the index of its component in `components`.
    component: Vec<usize>,
    /// The components, upstream first (each before every component it reaches).
    components: Vec<Vec<usize>>,
}

impl Reach {
    /// The graph with an edge from each vertex to every vertex of `successors[v]` (in any
    /// order, repeats allowed).
    pub(super) fn new(mut successors: Vec<Vec<usize>>) -> Self {
        for next in &mut successors {
            next.sort_unstable();
            next.dedup();
        }
        let mut found = components(successors.len(), |v| successors[v].iter().copied());
        found.reverse();
        let mut component = vec![0; successors.len()];
        for (c, members) in found.iter().enumerate() {
            members.iter().for_each(|&v| component[v] = c);
        }
        Self { successors, component, components: found }
    }

    /// Whether `vertex` can reach itself in one or more hops (it is on a loop).
    pub(super) fn on_loop(&self, vertex: usize) -> bool {
        self.components[self.component[vertex]].len() > 1
            || self.successors[vertex].binary_search(&vertex).is_ok()
    }

    /// Per vertex, whether it can be reached in one or more hops from some vertex of `starts`,
    /// passing on only through vertices for which `through` holds (the starts are always left).
    pub(super) fn reached_from_any(
        &self,
        starts: impl IntoIterator<Item = usize>,
        through: impl Fn(usize) -> bool,
    ) -> Vec<bool> {
        let mut reached = vec![false; self.successors.len()];
        let mut frontier: Vec<usize> = starts.into_iter().collect();
        while let Some(vertex) = frontier.pop() {
            for &next in &self.successors[vertex] {
                if !reached[next] {
                    reached[next] = true;
                    if through(next) {
                        frontier.push(next);
                    }
                }
            }
        }
        reached
    }

    /// Per vertex v, whether some vertex u ≠ v with `marked(u)` reaches v in one or more hops.
    pub(super) fn reached_from_another(&self, marked: impl Fn(usize) -> bool) -> Vec<bool> {
        let count: Vec<usize> =
            self.components.iter().map(|members| members.iter().filter(|&&u| marked(u)).count()).collect();
        // Some marked vertex in a component strictly upstream reaches the component.
        let mut above = vec![false; self.components.len()];
        for (c, members) in self.components.iter().enumerate() {
            let passes = above[c] || count[c] > 0;
            for &v in members {
                for &next in &self.successors[v] {
                    let d = self.component[next];
                    if d != c {
                        above[d] |= passes;
                    }
                }
            }
        }
        (0..self.successors.len())
            .map(|v| {
                let c = self.component[v];
                // In a component of several vertices, every other member reaches v.
                above[c] || count[c] > usize::from(marked(v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_reachability_without_a_table() {
        // 0 → 1 ⇄ 2 → 3 → 3, 4 → 0.
        let reach = Reach::new(vec![vec![1], vec![2, 2], vec![1, 3], vec![3], vec![0]]);
        assert_eq!((0..5).map(|v| reach.on_loop(v)).collect::<Vec<_>>(), [false, true, true, true, false]);
        assert_eq!(reach.reached_from_any([0], |_| true), [false, true, true, true, false]);
        // Through vertex 1 only: 0 reaches 1 and 2, not 3.
        assert_eq!(reach.reached_from_any([0], |v| v == 1), [false, true, true, false, false]);
        // Marked 1: reaches 2 and 3 (and not itself through the loop, which counts only others).
        assert_eq!(reach.reached_from_another(|v| v == 1), [false, false, true, true, false]);
        // Marked 1 and 2: each reaches the other.
        assert_eq!(reach.reached_from_another(|v| v == 1 || v == 2), [false, true, true, true, false]);
        // Marked 3, on a self-loop: reached only by itself, which does not count.
        assert_eq!(reach.reached_from_another(|v| v == 3), [false; 5]);
    }
}
