//! The drawing of a network: sources, exchanges and nodes as boxes in layers from left to right
//! (each at its distance in hops from the sources), the routes between them as arrows, and the
//! exit where messages are delivered. Plain inline SVG: no script, no reference to anything.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::markup::escape;
use crate::report::topology::{Edge, Topology, Vertex, VertexKind};

/// Width and height of a box, and the room between columns and rows, pixels.
const BOX: (f64, f64) = (150.0, 46.0);
const COLUMN: f64 = 220.0;
const ROW: f64 = 70.0;
const MARGIN: f64 = 20.0;
/// Room above the rows for the arcs of routes that skip a layer.
const ARCS: f64 = 40.0;
/// Most vertices drawn: beyond, boxes and arrows are too many to read on a page.
const MOST_DRAWN: usize = 200;

/// Fill and stroke colours of a box, by what it stands for.
fn colours(kind: VertexKind) -> (&'static str, &'static str) {
    match kind {
        VertexKind::Source => ("#e6f1f8", "#0072b2"),
        VertexKind::Exchange => ("#f3e8f0", "#cc79a7"),
        VertexKind::Node => ("#ffffff", "#555555"),
        VertexKind::Bottleneck => ("#fff1e6", "#d55e00"),
        VertexKind::Unstable => ("#fdecec", "#c81e1e"),
        VertexKind::Exit => ("#eaf7f2", "#009e73"),
    }
}

/// A vertex in its place: its layer (column) and row.
struct Placed<'a> {
    vertex: &'a Vertex,
    layer: usize,
    row: usize,
}

/// The topology laid out: vertices in layers, and the edges between them.
struct Graph<'a> {
    vertices: Vec<Placed<'a>>,
    edges: &'a [Edge],
}

impl<'a> Graph<'a> {
    fn new(topology: &'a Topology) -> Self {
        let vertices = topology.vertices.iter().map(|vertex| Placed { vertex, layer: 0, row: 0 }).collect();
        let mut graph = Self { vertices, edges: &topology.edges };
        graph.layer(topology.sources());
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
            for edge in self.edges.iter().filter(|e| e.from == at && e.to < count) {
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
    fn corner(&self, vertex: &Placed<'_>, height: f64) -> (f64, f64) {
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
        for edge in self.edges.iter().filter(|e| e.from < self.vertices.len() && e.to < self.vertices.len()) {
            self.arrow(edge, height, &mut out);
        }
        for vertex in &self.vertices {
            let (x, y) = self.corner(vertex, height);
            let (fill, stroke) = colours(vertex.vertex.kind);
            let _ = writeln!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\" font-size=\"11\">{}</text>",
                BOX.0,
                BOX.1,
                x + BOX.0 / 2.0,
                y + 19.0,
                escape(&vertex.vertex.name),
                x + BOX.0 / 2.0,
                y + 36.0,
                escape(&vertex.vertex.detail)
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

/// The drawing of `topology`; a sentence instead when it has more than [`MOST_DRAWN`] vertices.
pub(super) fn render(topology: &Topology, out: &mut String) {
    out.push_str("<h3>Graph</h3>\n");
    let vertices = topology.vertices.len();
    if vertices > MOST_DRAWN || vertices == 0 {
        let _ = writeln!(
            out,
            "<p>The network has {vertices} sources, exchanges and nodes: too many to draw legibly \
             (at most {MOST_DRAWN}). The tables below list them.</p>"
        );
        return;
    }
    out.push_str("<figure class=\"graph\">\n");
    out.push_str(&Graph::new(topology).svg());
    out.push_str(
        "\n<figcaption>Sources (blue), exchanges (purple) and nodes, left to right by hops from the \
         sources; the bottleneck in orange, an unstable node in red; a route's probability on its \
         arrow when below 1.</figcaption>\n</figure>\n",
    );
}
