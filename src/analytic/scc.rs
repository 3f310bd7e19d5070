//! Strongly connected components of a directed graph (Tarjan's algorithm, without recursion, so
//! a chain of a million vertices needs no deep stack).

/// Marks a vertex not yet reached by the search.
const UNVISITED: usize = usize::MAX;

/// The strongly connected components of the graph on vertices `0..vertices` whose edges leave
/// each vertex `v` towards `successors(v)`, each component listing its vertices.
///
/// Components come in reverse topological order: each one after every component it reaches.
/// Within a component, vertices come in the reverse order of their discovery by depth-first
/// search, so most edges inside it point to a vertex listed earlier. Time and memory are linear
/// in the vertices and edges.
pub(crate) fn components<I>(vertices: usize, successors: impl Fn(usize) -> I) -> Vec<Vec<usize>>
where
    I: Iterator<Item = usize>,
{
    let mut search = Search {
        index: vec![UNVISITED; vertices],
        low: vec![0; vertices],
        on_stack: vec![false; vertices],
        stack: Vec::new(),
        counter: 0,
        found: Vec::new(),
    };
    for root in 0..vertices {
        if search.index[root] == UNVISITED {
            search.from(root, &successors);
        }
    }
    search.found
}

/// The state of Tarjan's search.
struct Search {
    /// Discovery number of each vertex, or [`UNVISITED`].
    index: Vec<usize>,
    /// Smallest discovery number reachable from the vertex's subtree through one back edge.
    low: Vec<usize>,
    /// Whether the vertex is on `stack` (discovered, its component not yet emitted).
    on_stack: Vec<bool>,
    /// Vertices discovered whose component is not yet emitted.
    stack: Vec<usize>,
    /// Next discovery number.
    counter: usize,
    /// Components emitted so far.
    found: Vec<Vec<usize>>,
}

impl Search {
    /// Discovers `vertex`.
    fn discover(&mut self, vertex: usize) {
        self.index[vertex] = self.counter;
        self.low[vertex] = self.counter;
        self.counter += 1;
        self.stack.push(vertex);
        self.on_stack[vertex] = true;
    }

    /// Depth-first search from `root`, with an explicit stack of (vertex, edges left to follow).
    fn from<I: Iterator<Item = usize>>(&mut self, root: usize, successors: &impl Fn(usize) -> I) {
        self.discover(root);
        let mut path = vec![(root, successors(root))];
        while let Some((vertex, edges)) = path.last_mut() {
            let vertex = *vertex;
            if let Some(next) = edges.next() {
                if self.index[next] == UNVISITED {
                    self.discover(next);
                    path.push((next, successors(next)));
                } else if self.on_stack[next] {
                    self.low[vertex] = self.low[vertex].min(self.index[next]);
                }
                continue;
            }
            path.pop();
            if let Some(&(parent, _)) = path.last() {
                self.low[parent] = self.low[parent].min(self.low[vertex]);
            }
            if self.low[vertex] == self.index[vertex] {
                self.emit(vertex);
            }
        }
    }

    /// Pops the component whose first discovered vertex is `head`.
    fn emit(&mut self, head: usize) {
        let mut component = Vec::new();
        while let Some(member) = self.stack.pop() {
            self.on_stack[member] = false;
            component.push(member);
            if member == head {
                break;
            }
        }
        self.found.push(component);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let mut found = components(edges.len(), |v| edges[v].iter().copied());
        found.iter_mut().for_each(|c| c.sort_unstable());
        found
    }

    #[test]
    fn finds_cycles_in_reverse_topological_order() {
        // 0 → 1 ⇄ 2 → 3 (with a self-loop), 4 alone.
        let edges = vec![vec![1], vec![2], vec![1, 3], vec![3], vec![]];
        assert_eq!(of(&edges), vec![vec![3], vec![1, 2], vec![0], vec![4]]);
    }

    #[test]
    fn a_long_chain_needs_no_deep_stack() {
        let n = 1_000_000;
        let found = components(n, |v| (v + 1 < n).then_some(v + 1).into_iter());
        assert_eq!(found.len(), n);
        assert_eq!(found[0], vec![n - 1]);
        // One ring of the same length is one component.
        let ring = components(n, |v| std::iter::once((v + 1) % n));
        assert_eq!(ring.len(), 1);
        assert_eq!(ring[0].len(), n);
    }
}
