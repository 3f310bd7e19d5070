//! The drawing of a network: sources, exchanges and nodes as boxes in layers from left to right
//! (each at its distance in hops from the sources), the routes between them as arrows, and the
//! exit where messages are delivered. Plain inline SVG: no script, no reference to anything.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::markup::escape;
use crate::analytic::Analysis;
use crate::model::{Network, Target, Unroutable};

/// Width and height of a box, and the room between columns and rows, pixels.
const BOX: (f64, f64) = (150.0, 46.0);
const COLUMN: f64 = 220.0;
const ROW: f64 = 70.0;
const MARGIN: f64 = 20.0;
/// Room above the rows for the arcs of routes that skip a layer.
const ARCS: f64 = 40.0;

/// What a box stands for, which sets its colours.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Source,
    Exchange,
    Node,
    Bottleneck,
    Unstable,
    Exit,
}

impl Kind {
    /// Fill and stroke colours.
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Self::Source => ("#e6f1f8", "#0072b2"),
            Self::Exchange => ("#f3e8f0", "#cc79a7"),
            Self::Node => ("#ffffff", "#555555"),
            Self::Bottleneck => ("#fff1e6", "#d55e00"),
            Self::Unstable => ("#fdecec", "#c81e1e"),
            Self::Exit => ("#eaf7f2", "#009e73"),
        }
    }
}

/// A box: its name, a second line (model, kind), its kind and its layer.
struct Vertex {
    name: String,
    detail: String,
    kind: Kind,
    layer: usize,
    row: usize,
}

/// An arrow between two vertices, labelled with its probability when below 1.
struct Edge {
    from: usize,
    to: usize,
    label: Option<String>,
}

/// The network as vertices (sources, then exchanges, then nodes, then the exit) and edges.
struct Graph {
    vertices: Vec<Vertex>,
    edges: Vec<Edge>,
}

impl Graph {
    fn new(network: &Network, analysis: Option<&Analysis>) -> Self {
        let (sources, exchanges, nodes) =
            (network.sources().len(), network.exchanges().len(), network.nodes().len());
        let exit = sources + exchanges + nodes;
        let index = |target: Target| match target {
            Target::Exchange(id) => sources + id.index(),
            Target::Node(id) => sources + exchanges + id.index(),
            Target::Exit => exit,
        };
        let vertex = |name: &str, detail: String, kind| Vertex {
            name: name.to_owned(),
            detail,
            kind,
            layer: 0,
            row: 0,
        };
        let mut vertices: Vec<Vertex> =
            network.sources().iter().map(|s| vertex(&s.name, "source".to_owned(), Kind::Source)).collect();
        let mut edges: Vec<Edge> = network
            .sources()
            .iter()
            .enumerate()
            .map(|(i, s)| Edge { from: i, to: index(s.target), label: None })
            .collect();
        for (i, exchange) in network.exchanges().iter().enumerate() {
            let detail = format!("exchange ({})", exchange.kind.name());
            vertices.push(vertex(&exchange.name, detail, Kind::Exchange));
            let mut targets: Vec<Target> = exchange.bindings.iter().map(|b| b.target).collect();
            if let Unroutable::To(target) = exchange.unroutable {
                targets.push(target);
            }
            targets.dedup();
            edges.extend(targets.into_iter().map(|t| Edge { from: sources + i, to: index(t), label: None }));
        }
        let bottleneck = analysis.and_then(|a| a.system.bottleneck.as_deref());
        for (i, node) in network.nodes().iter().enumerate() {
            let theory = analysis.map(|a| &a.nodes[i]);
            let kind = match theory {
                Some(t) if !t.stable => Kind::Unstable,
                _ if Some(node.name.as_str()) == bottleneck => Kind::Bottleneck,
                _ => Kind::Node,
            };
            let detail = theory.map_or_else(
                || format!("{} servers", node.servers),
                |t| format!("{}, ρ {:.2}", t.model, t.utilization),
            );
            vertices.push(vertex(&node.name, detail, kind));
            let from = sources + exchanges + i;
            for route in node.routing.branches() {
                let label = (route.probability < 1.0).then(|| format!("{:.2}", route.probability));
                edges.push(Edge { from, to: index(route.target), label });
            }
            if let Some(target) = node.dead_letter {
                edges.push(Edge { from, to: index(target), label: Some("expired".to_owned()) });
            }
        }
        vertices.push(vertex("exit", "delivered".to_owned(), Kind::Exit));
        let mut graph = Self { vertices, edges };
        graph.layer(sources);
        graph
    }

    /// Puts each vertex in the layer of its distance from the nearest source (breadth first),
    /// the unreachable after the others and the exit last; numbers the rows of each layer.
    fn layer(&mut self, sources: usize) {
        let count = self.vertices.len();
        let mut depth: Vec<Option<usize>> = vec![None; count];
        let mut queue: VecDeque<usize> = (0..sources).collect();
        depth[..sources].fill(Some(0));
        while let Some(at) = queue.pop_front() {
            for edge in self.edges.iter().filter(|e| e.from == at) {
                if depth[edge.to].is_none() {
                    depth[edge.to] = depth[at].map(|d| d + 1);
                    queue.push_back(edge.to);
                }
            }
        }
        let exit = count - 1;
        let deepest = depth[..exit].iter().flatten().copied().max().unwrap_or(0);
        let unreachable = depth[..exit].iter().any(Option::is_none);
        let last = deepest + 1 + usize::from(unreachable);
        let mut rows = vec![0; last + 1];
        for (i, vertex) in self.vertices.iter_mut().enumerate() {
            vertex.layer = if i == exit { last } else { depth[i].unwrap_or(deepest + 1) };
            vertex.row = rows[vertex.layer];
            rows[vertex.layer] += 1;
        }
    }

    /// The room above the rows: for arcs when a route skips a layer.
    fn arcs(&self) -> f64 {
        let skips = self.edges.iter().any(|e| self.vertices[e.to].layer > self.vertices[e.from].layer + 1);
        if skips { ARCS } else { 0.0 }
    }

    /// The top-left corner of a vertex's box.
    fn corner(&self, vertex: &Vertex, height: f64) -> (f64, f64) {
        let in_layer = self.vertices.iter().filter(|v| v.layer == vertex.layer).count() as f64;
        let top = (height + self.arcs() - in_layer * ROW) / 2.0;
        (MARGIN + vertex.layer as f64 * COLUMN, top + vertex.row as f64 * ROW + (ROW - BOX.1) / 2.0)
    }

    fn svg(&self) -> String {
        let layers = self.vertices.iter().map(|v| v.layer).max().unwrap_or(0) + 1;
        let tallest = (0..layers).map(|l| self.vertices.iter().filter(|v| v.layer == l).count()).max();
        let height = tallest.unwrap_or(1) as f64 * ROW + 2.0 * MARGIN + self.arcs();
        let width = (layers - 1) as f64 * COLUMN + BOX.0 + 2.0 * MARGIN;
        let mut out = format!(
            "<svg class=\"graph\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
             xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"13\">\n"
        );
        for edge in &self.edges {
            self.arrow(edge, height, &mut out);
        }
        for vertex in &self.vertices {
            let (x, y) = self.corner(vertex, height);
            let (fill, stroke) = vertex.kind.colours();
            let _ = writeln!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\" font-size=\"11\">{}</text>",
                BOX.0,
                BOX.1,
                x + BOX.0 / 2.0,
                y + 19.0,
                escape(&vertex.name),
                x + BOX.0 / 2.0,
                y + 36.0,
                escape(&vertex.detail)
            );
        }
        out.push_str("</svg>");
        out
    }

    /// An arrow from the right of one box to the left of the other (arched over the layers it
    /// skips), or, back to the same or an earlier layer, a curve beneath them; its head drawn as
    /// a triangle.
    fn arrow(&self, edge: &Edge, height: f64, out: &mut String) {
        let (from, to) = (&self.vertices[edge.from], &self.vertices[edge.to]);
        let ((fx, fy), (tx, ty)) = (self.corner(from, height), self.corner(to, height));
        let start = (fx + BOX.0, fy + BOX.1 / 2.0);
        let (end, control) = if to.layer == from.layer + 1 {
            let end = (tx, ty + BOX.1 / 2.0);
            (end, ((start.0 + end.0) / 2.0, (start.1 + end.1) / 2.0))
        } else if to.layer > from.layer {
            // Over the boxes of the layers it skips.
            let end = (tx, ty + BOX.1 / 2.0);
            (end, ((start.0 + end.0) / 2.0, start.1.min(end.1) - 75.0))
        } else {
            let end = (tx + BOX.0 / 2.0, ty + BOX.1);
            (end, ((start.0 + end.0) / 2.0 + 40.0, start.1.max(end.1) + 45.0))
        };
        let _ = writeln!(
            out,
            "<path d=\"M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}\" fill=\"none\" stroke=\"#777\" stroke-width=\"1.5\"/>",
            start.0, start.1, control.0, control.1, end.0, end.1
        );
        let (dx, dy) = (end.0 - control.0, end.1 - control.1);
        let length = dx.hypot(dy).max(1e-9);
        let (ux, uy) = (dx / length, dy / length);
        let (bx, by) = (end.0 - 9.0 * ux, end.1 - 9.0 * uy);
        let _ = writeln!(
            out,
            "<polygon points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"#777\"/>",
            end.0,
            end.1,
            bx - 4.5 * uy,
            by + 4.5 * ux,
            bx + 4.5 * uy,
            by - 4.5 * ux
        );
        if let Some(label) = &edge.label {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{}</text>",
                (start.0 + 2.0 * control.0 + end.0) / 4.0,
                (start.1 + 2.0 * control.1 + end.1) / 4.0 - 4.0,
                escape(label)
            );
        }
    }
}

/// The drawing of `network`, with each node's model and load from `analysis` when there is one.
pub(super) fn render(network: &Network, analysis: Option<&Analysis>, out: &mut String) {
    out.push_str("<h3>Graph</h3>\n<figure class=\"graph\">\n");
    out.push_str(&Graph::new(network, analysis).svg());
    out.push_str(
        "\n<figcaption>Sources (blue), exchanges (purple) and nodes, left to right by hops from the \
         sources; the bottleneck in orange, an unstable node in red; a route's probability on its \
         arrow when below 1.</figcaption>\n</figure>\n",
    );
}
